/**
 * Durations as operators type them: `30d`, `12h`, `15m`, `90s`, `500ms`, `2w`, or Effect's own `"30 days"`.
 *
 * @internal
 */
import { Duration, Option } from "effect"

const unitMillis: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

const short = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/

/** What `parseDuration` accepts, for messages. */
export const durationSyntax = "a duration such as 30d, 12h, 15m, 90s, 500ms, 2w or \"30 days\""

/** A finite, non-negative duration in milliseconds; `None` when the text is not one. */
export const parseDurationMillis = (text: string): Option.Option<number> => {
  const trimmed = text.trim()
  const match = short.exec(trimmed)
  if (match !== null) {
    const millis = Number(match[1]) * unitMillis[match[2]!]!
    return Number.isFinite(millis) ? Option.some(millis) : Option.none()
  }
  return Option.flatMap(
    Duration.fromInput(trimmed as Duration.Input),
    (duration) => {
      const millis = Duration.toMillis(duration)
      return Number.isFinite(millis) && millis >= 0 ? Option.some(millis) : Option.none()
    }
  )
}
