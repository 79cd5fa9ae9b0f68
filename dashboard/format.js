// @ts-check
/**
 * How values are shown: statuses with an icon and a word (never colour alone), times in the viewer's time zone
 * with UTC on hover (and in UTC too in the timeline's labels), durations.
 *
 * @since 0.3.0
 */
import { h } from "./dom.js"

/** @type {Readonly<Record<string, { icon: string, label: string }>>} */
export const deploymentStatuses = {
  running: { icon: "▶", label: "running" },
  paused: { icon: "‖", label: "paused" },
  rolling_back: { icon: "↺", label: "rolling back" },
  rollback_failed: { icon: "⚠", label: "rollback failed" },
  rolled_back: { icon: "↩", label: "rolled back" },
  succeeded: { icon: "✓", label: "succeeded" }
}

/** @type {Readonly<Record<string, { icon: string, label: string }>>} */
export const jobStatuses = {
  pending: { icon: "○", label: "pending" },
  running: { icon: "▶", label: "running" },
  succeeded: { icon: "✓", label: "succeeded" },
  failed: { icon: "✗", label: "failed" },
  rolled_back: { icon: "↩", label: "rolled back" },
  rollback_failed: { icon: "⚠", label: "rollback failed" }
}

/**
 * A status badge: icon and text, coloured by a class (the colour only repeats what the text says).
 *
 * @param {string} status
 * @param {"deployment" | "job"} [kind]
 */
export const statusBadge = (status, kind = "deployment") => {
  const known = (kind === "job" ? jobStatuses : deploymentStatuses)[status] ?? { icon: "?", label: status }
  return h("span", { class: `status status-${status}`, "data-status": status },
    h("span", { class: "status-icon", "aria-hidden": "true" }, known.icon), " ", known.label)
}

const localFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"
})

const preciseFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3
})
const preciseClock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3 })
const localDay = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "2-digit", day: "2-digit" })

/**
 * An instant in UTC, to the millisecond: `2026-03-14 11:01:02.345 UTC`.
 *
 * @param {number} millis
 */
export const utc = (millis) => new Date(millis).toISOString().replace("T", " ").replace("Z", " UTC")

/**
 * A time in the viewer's time zone, with its UTC form on hover (`title`) and in `datetime`.
 *
 * @param {string | undefined} iso
 */
export const time = (iso) => {
  if (iso === undefined) return h("span", { class: "muted" }, "—")
  const date = new Date(iso)
  return h("time", { datetime: iso, title: `UTC: ${utc(date.getTime())}` }, localFormat.format(date))
}

/**
 * An instant for a label, in the viewer's time zone to the millisecond, then in UTC:
 * `14 Mar 2026, 12:01:02.345 [UTC 2026-03-14 11:01:02.345]`.
 *
 * @param {number} millis
 */
export const instant = (millis) => `${preciseFormat.format(millis)} [UTC ${utc(millis).replace(" UTC", "")}]`

/**
 * A period for a label, in the viewer's time zone to the millisecond (the end as a time of day when it is on the
 * start's day), then in UTC: `14 Mar 2026, 12:01:02.345 → 12:01:02.360 [UTC 2026-03-14 11:01:02.345 → 11:01:02.360]`.
 * `to` may be a text instead, such as `still running`.
 *
 * @param {number} from
 * @param {number | string} to
 */
export const period = (from, to) => {
  const start = utc(from).replace(" UTC", "")
  if (typeof to === "string") return `${preciseFormat.format(from)} → ${to} [UTC ${start}]`
  const sameLocalDay = localDay.format(from) === localDay.format(to)
  const end = utc(to).replace(" UTC", "")
  const sameUtcDay = end.slice(0, 10) === start.slice(0, 10)
  return `${preciseFormat.format(from)} → ${sameLocalDay ? preciseClock.format(to) : preciseFormat.format(to)} [UTC ${start} → ${sameUtcDay ? end.slice(11) : end}]`
}

/**
 * A duration in milliseconds, short: `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 10 min`.
 *
 * @param {number} millis
 */
export const duration = (millis) => {
  if (!Number.isFinite(millis) || millis < 0) return "—"
  if (millis < 1000) return `${Math.round(millis)} ms`
  if (millis < 60_000) return `${(millis / 1000).toFixed(millis < 10_000 ? 1 : 0)} s`
  const minutes = Math.floor(millis / 60_000)
  if (minutes < 60) return `${minutes} min ${Math.round((millis % 60_000) / 1000)} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

/**
 * Milliseconds between two ISO times.
 *
 * @param {string} from
 * @param {string} to
 */
export const between = (from, to) => Date.parse(to) - Date.parse(from)

/**
 * A deployment id shortened for tables (its full form in `title`).
 *
 * @param {string} id
 */
export const shortId = (id) => id.length > 13 ? `${id.slice(0, 8)}…` : id
