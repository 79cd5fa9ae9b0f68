/**
 * Checks: what an untrusted value must be, as pure, total functions of any value. Each accepts any value
 * (`undefined`, `null`, numbers, objects where a string is expected, `NaN`, infinities, unparsable durations), never
 * throws, and answers with the accepted value or a `Rejection` saying what is accepted; `validate.ts` and
 * `validateOptions.ts` turn a rejection into the typed error of what was checked.
 *
 * @internal
 */
import { Duration, Option, Result } from "effect"
import type * as Action from "../Action.ts"
import { TypeId as ActionTypeId } from "../Action.ts"
import { DeploymentStatus } from "../Deployment.ts"
import { maxKeyBytes, maxNameBytes, utf8Bytes } from "./limits.ts"
import { textIssue } from "./storable.ts"

/** Why a value was refused: what is accepted, and (when more telling than the value itself) what was given. */
export interface Rejection {
  readonly expected: string
  readonly got?: string
}

/** A check of an untrusted value: the value it accepts, or why it refuses it. */
export type Check<A> = (value: unknown) => Result.Result<A, Rejection>

/** A refusal: what is accepted, and what was given when that tells more than the value. */
export const reject = (expected: string, got?: string): Result.Result<never, Rejection> =>
  Result.fail(got === undefined ? { expected } : { expected, got })

const maxShown = 60

// JSON would show NaN and the infinities as `null`, and cannot show a bigint at all.
const jsonReplacer = (_key: string, item: unknown): unknown =>
  typeof item === "number" && !Number.isFinite(item) ? String(item) : typeof item === "bigint" ? `${item}n` : item

/** A short, readable, storable description of any value, for error messages. */
export const describeValue = (value: unknown): string => {
  switch (typeof value) {
    case "undefined":
      return "undefined"
    case "number":
      return Object.is(value, -0) ? "-0" : String(value)
    case "bigint":
      return `${value}n`
    case "boolean":
      return String(value)
    case "symbol":
      return "a symbol"
    case "function":
      return "a function"
    case "string": {
      // JSON escapes \u0000 and unpaired surrogates, so the description is storable whatever the string holds.
      const shown = JSON.stringify(value.length > maxShown ? value.slice(0, maxShown) : value)
      return value.length > maxShown ? `${shown.slice(0, -1)}…" (${value.length} characters)` : shown
    }
    case "object": {
      if (value === null) return "null"
      if (Duration.isDuration(value)) return `Duration(${Duration.format(value)})`
      if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? "" : "s"}`
      let shown: string | undefined
      try {
        shown = JSON.stringify(value, jsonReplacer)
      } catch {
        shown = undefined
      }
      if (shown === undefined) return "an object"
      return shown.length > maxShown ? `${shown.slice(0, maxShown)}…` : shown
    }
  }
}

/** A finite integer within `[min, max]`. */
export const integer = (min: number, max: number): Check<number> => {
  const expected = `an integer from ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}`
  return (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
      ? Result.succeed(value)
      : reject(expected)
}

/** `true` or `false`. */
export const boolean: Check<boolean> = (value) =>
  typeof value === "boolean" ? Result.succeed(value) : reject("true or false")

/** Any string. */
export const string: Check<string> = (value) =>
  typeof value === "string" ? Result.succeed(value) : reject("a string")

/** A string every store can hold (no `\u0000`, no unpaired UTF-16 surrogate), of any length. */
export const storableString: Check<string> = (value) => {
  const expected = "a string without \\u0000 or unpaired UTF-16 surrogates"
  if (typeof value !== "string") return reject(expected)
  const issue = textIssue(value)
  return issue === undefined ? Result.succeed(value) : reject(expected, `a string that ${issue}`)
}

/** A storable string of at most `maxBytes` UTF-8 bytes, empty or not as `allowEmpty` says. */
const boundedText = (what: string, maxBytes: number, allowEmpty: boolean): Check<string> => {
  const expected = `${allowEmpty ? "a" : "a non-empty"} ${what} of at most ${maxBytes} UTF-8 bytes, without \\u0000 or unpaired UTF-16 surrogates`
  return (value) => {
    if (typeof value !== "string") return reject(expected)
    if (value === "" && !allowEmpty) return reject(expected, "an empty string")
    const issue = textIssue(value)
    if (issue !== undefined) return reject(expected, `a string that ${issue}`)
    const bytes = utf8Bytes(value)
    if (bytes > maxBytes) return reject(expected, `a string of ${bytes} UTF-8 bytes`)
    return Result.succeed(value)
  }
}

/**
 * An application, action or job name (and a process owner id): a non-empty string a store can hold, of at most
 * `maxNameBytes` UTF-8 bytes.
 */
export const name: Check<string> = boundedText("string", maxNameBytes, false)

/** A deployment key: a string a store can hold, of at most `maxKeyBytes` UTF-8 bytes; `""` is a key like any other. */
export const key: Check<string> = boundedText("string", maxKeyBytes, true)

/** The value, or `undefined` when it is left out. */
export const optional = <A>(check: Check<A>): Check<A | undefined> => (value) =>
  value === undefined ? Result.succeed(undefined) : check(value)

/** An options object (a non-null, non-array object), or `undefined` when left out. */
export const optionsObject: Check<Readonly<Record<string, unknown>> | undefined> = (value) =>
  value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value))
    ? Result.succeed(value as Readonly<Record<string, unknown>> | undefined)
    : reject("an object")

const isStatus = (value: unknown): value is DeploymentStatus =>
  typeof value === "string" && (DeploymentStatus.literals as ReadonlyArray<string>).includes(value)

/** A non-empty array of deployment statuses, each known. */
export const statuses: Check<ReadonlyArray<DeploymentStatus>> = (value) => {
  const expected = `a non-empty array of statuses among ${DeploymentStatus.literals.join(", ")}`
  if (!Array.isArray(value)) return reject(expected)
  if (value.length === 0) return reject(expected, "an empty array (leave the filter out to list every status)")
  for (let index = 0; index < value.length; index++) {
    const item: unknown = value[index]
    if (!isStatus(item)) return reject(expected, `${describeValue(item)} at index ${index}`)
  }
  return Result.succeed(value as ReadonlyArray<DeploymentStatus>)
}

const durationUnits = new Set([
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds"
])

/**
 * Parses any value as a `Duration.Input`, without throwing, and without the silent readings of
 * `Duration.fromInput` (which reads `NaN`, `[NaN, 0]` and `{ seconds: NaN }` as zero, and ignores unknown keys).
 */
export const parseDuration = (value: unknown): Option.Option<Duration.Duration> => {
  if (typeof value === "number" && Number.isNaN(value)) return Option.none()
  if (Array.isArray(value)) {
    if (value.length !== 2 || !value.every((part) => typeof part === "number" && !Number.isNaN(part))) {
      return Option.none()
    }
  } else if (typeof value === "object" && value !== null && !Duration.isDuration(value)) {
    for (const [unit, amount] of Object.entries(value)) {
      if (!durationUnits.has(unit)) return Option.none()
      if (amount !== undefined && (typeof amount !== "number" || Number.isNaN(amount))) return Option.none()
    }
  } else if (typeof value !== "number" && typeof value !== "bigint" && typeof value !== "string") {
    if (!Duration.isDuration(value)) return Option.none()
  }
  // The cases above leave only shapes of `Duration.Input`; `fromInput` still refuses a string it cannot parse.
  return Duration.fromInput(value as Duration.Input)
}

/** A bound of a duration range, with the words that name it. */
export interface DurationBound {
  readonly duration: Duration.Duration
  readonly text: string
  /** Whether the bound itself is out of the range. */
  readonly exclusive?: boolean
}

/**
 * A finite duration (any `Duration.Input`) within `[min, max]` (excluding a bound marked `exclusive`); with no
 * `max`, any finite duration from `min` on.
 */
export const duration = (min: DurationBound, max?: DurationBound): Check<Duration.Duration> => {
  const lower = `${min.exclusive === true ? "longer than" : "of at least"} ${min.text}`
  const upper = max === undefined ? "" : ` and ${max.exclusive === true ? "shorter than" : "at most"} ${max.text}`
  const expected = `a finite duration ${lower}${upper} (milliseconds, or a string such as "5 seconds")`
  return (value) => {
    const parsed = parseDuration(value)
    if (Option.isNone(parsed)) return reject(expected)
    const found = parsed.value
    if (!Duration.isFinite(found)) return reject(expected)
    const aboveMin = min.exclusive === true
      ? Duration.isGreaterThan(found, min.duration)
      : Duration.isGreaterThanOrEqualTo(found, min.duration)
    const belowMax = max === undefined
      ? true
      : max.exclusive === true
      ? Duration.isLessThan(found, max.duration)
      : Duration.isLessThanOrEqualTo(found, max.duration)
    return aboveMin && belowMax ? Result.succeed(found) : reject(expected, describeDuration(value, found))
  }
}

const describeDuration = (value: unknown, parsed: Duration.Duration): string => {
  const shown = describeValue(value)
  const formatted = Duration.format(parsed)
  return shown === formatted || typeof value === "string" ? shown : `${shown} (${formatted})`
}

const ActionTypeIdKey: string = ActionTypeId

/** An action made by `Action.make`. */
export const action: Check<Action.Any> = (value) =>
  typeof value === "object" && value !== null && ActionTypeIdKey in value &&
    Array.isArray((value as { readonly jobs?: unknown }).jobs)
    ? Result.succeed(value as Action.Any)
    : reject("an action made by Action.make")

/** A bound of a duration range, in milliseconds, with the words that name it (exclusive when `exclusive`). */
export const bound = (millis: number, text: string, exclusive?: boolean): DurationBound =>
  exclusive === true
    ? { duration: Duration.millis(millis), text, exclusive }
    : { duration: Duration.millis(millis), text }
