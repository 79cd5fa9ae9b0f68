/**
 * Validation of everything that enters the runtime from its caller: the options of `Actions.layer` (resolved
 * with their defaults into the settings the runtime runs with) and the arguments of the public operations.
 *
 * Every check is pure and total: it accepts any value (`undefined`, `null`, numbers, objects where a string is
 * expected, `NaN`, infinities, unparsable durations), never throws, and answers with the accepted value or a typed
 * error: `InvalidOption` for an option (the layer fails when it is built), `InvalidArgument` for an argument (the
 * operation does nothing). The ranges are documented in `docs/limits.md`.
 *
 * @internal
 */
import { DateTime, Duration, Effect, Option, Result } from "effect"
import type * as Action from "../Action.ts"
import { TypeId as ActionTypeId } from "../Action.ts"
import { InvalidArgument, InvalidOption } from "../ActionError.ts"
import type * as Actions from "../Actions.ts"
import { DeploymentStatus } from "../Deployment.ts"
import { maxKeyBytes, maxNameBytes, utf8Bytes } from "./limits.ts"
import { textIssue } from "./storable.ts"

// ---------------------------------------------------------------------------------------------------------------
// Checks: what a value must be, as a pure function of any value
// ---------------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------------
// Options of the runtime
// ---------------------------------------------------------------------------------------------------------------

const hour = 3_600_000
const bound = (millis: number, text: string, exclusive?: boolean): DurationBound =>
  exclusive === true
    ? { duration: Duration.millis(millis), text, exclusive }
    : { duration: Duration.millis(millis), text }

/** Zero, as the lower bound of a duration. */
export const zeroBound = bound(0, "0 millis")
/** The shortest lease: shorter ones are lost to an ordinary pause (a GC, a slow round trip). */
export const minLeaseTtl = bound(100, "100 millis")
/** The shortest interval of a loop (heartbeat, recovery poll, remote await poll): shorter ones only burn CPU. */
export const minInterval = bound(10, "10 millis")
/** The longest duration of any option: no loop of the runtime needs to sleep longer. */
export const maxOptionDuration = bound(24 * hour, "24 hours")
/** The most deployments one recovery pass claims. */
export const maxBatch = 10_000
/** The most deployments one process runs at once (each holds about 22 KiB of heap and one id per heartbeat). */
export const maxInFlight = 100_000
/** The highest resume limit. */
export const maxResumes = 1_000_000

/** The settings the runtime runs with: `Actions.Options`, checked, with every default filled in. */
export interface Settings {
  readonly owner: string
  readonly recovery: {
    readonly leaseTtl: Duration.Duration
    readonly heartbeat: Duration.Duration
    readonly pollInterval: Duration.Duration
    readonly batch: number
    readonly maxInFlight: number
    readonly maxResumes: number
    readonly enabled: boolean
  }
  readonly awaitPollInterval: Duration.Duration
  readonly shutdownTimeout: Duration.Duration
}

/** The defaults of `Actions.Options` (the heartbeat's is a third of the lease TTL; the owner's is random). */
export const defaults = {
  leaseTtl: Duration.seconds(30),
  pollInterval: Duration.seconds(5),
  batch: 100,
  maxInFlight: 1000,
  maxResumes: 10,
  enabled: true,
  awaitPollInterval: Duration.seconds(1),
  shutdownTimeout: Duration.seconds(10)
} as const

/** Checks one option: the accepted value (or `fallback` when left out), or `InvalidOption` naming it. */
export const option = <A>(path: string, value: unknown, check: Check<A>, fallback: A): Result.Result<A, InvalidOption> => {
  if (value === undefined) return Result.succeed(fallback)
  const checked = check(value)
  return Result.isSuccess(checked)
    ? Result.succeed(checked.success)
    : Result.fail(
      new InvalidOption({ option: path, value: checked.failure.got ?? describeValue(value), expected: checked.failure.expected })
    )
}

/**
 * Checks the options of `Actions.make`/`Actions.layer` and fills in their defaults. The first invalid option fails
 * the whole with `InvalidOption`.
 */
export const resolveOptions = (options: Actions.Options | undefined): Effect.Effect<Settings, InvalidOption> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const given = (yield* option("options", options, optionsObject, undefined)) ?? {}
      const owner = yield* option("owner", given.owner, name, undefined)
      const recovery = (yield* option("recovery", given.recovery, optionsObject, undefined)) ?? {}
      const leaseTtl = yield* option(
        "recovery.leaseTtl",
        recovery.leaseTtl,
        duration(minLeaseTtl, maxOptionDuration),
        defaults.leaseTtl
      )
      const heartbeat = yield* option(
        "recovery.heartbeat",
        recovery.heartbeat,
        duration(minInterval, {
          duration: leaseTtl,
          text: `recovery.leaseTtl (${Duration.format(leaseTtl)})`,
          exclusive: true
        }),
        Duration.divideUnsafe(leaseTtl, 3)
      )
      const pollInterval = yield* option(
        "recovery.pollInterval",
        recovery.pollInterval,
        duration(minInterval, maxOptionDuration),
        defaults.pollInterval
      )
      const batch = yield* option("recovery.batch", recovery.batch, integer(1, maxBatch), defaults.batch)
      const inFlight = yield* option(
        "recovery.maxInFlight",
        recovery.maxInFlight,
        integer(1, maxInFlight),
        defaults.maxInFlight
      )
      const resumes = yield* option("recovery.maxResumes", recovery.maxResumes, integer(1, maxResumes), defaults.maxResumes)
      const enabled = yield* option("recovery.enabled", recovery.enabled, boolean, defaults.enabled)
      const awaitPollInterval = yield* option(
        "awaitPollInterval",
        given.awaitPollInterval,
        duration(minInterval, maxOptionDuration),
        defaults.awaitPollInterval
      )
      const shutdownTimeout = yield* option(
        "shutdownTimeout",
        given.shutdownTimeout,
        duration(zeroBound, maxOptionDuration),
        defaults.shutdownTimeout
      )
      return {
        owner: owner ?? `effect-actions-${crypto.randomUUID()}`,
        recovery: {
          leaseTtl,
          heartbeat,
          pollInterval,
          batch,
          maxInFlight: inFlight,
          maxResumes: resumes,
          enabled
        },
        awaitPollInterval,
        shutdownTimeout
      }
    }))
  )

// ---------------------------------------------------------------------------------------------------------------
// Arguments of the public operations
// ---------------------------------------------------------------------------------------------------------------

/** Checks one argument: the accepted value, or `InvalidArgument` naming the operation and the argument. */
export const argument = <A>(
  operation: string,
  path: string,
  value: unknown,
  check: Check<A>
): Result.Result<A, InvalidArgument> => {
  const checked = check(value)
  return Result.isSuccess(checked)
    ? Result.succeed(checked.success)
    : Result.fail(
      new InvalidArgument({
        operation,
        argument: path,
        issue: `expected ${checked.failure.expected}, got ${checked.failure.got ?? describeValue(value)}`
      })
    )
}

/** The argument checker of one operation, for `Result.gen` bodies that check several arguments in order. */
export const argumentsOf = (operation: string) => <A>(path: string, value: unknown, check: Check<A>) =>
  argument(operation, path, value, check)

/** A deployment id argument: a string (ids the store never made are simply not found). */
export const deploymentIdArgument = (operation: string, value: unknown): Effect.Effect<string, InvalidArgument> =>
  Effect.suspend(() => Effect.fromResult(argument(operation, "deploymentId", value, string)))

/** The action argument of a typed operation: an action made by `Action.make`. */
export const actionArgument = (operation: string, value: unknown): Effect.Effect<Action.Any, InvalidArgument> =>
  Effect.suspend(() => Effect.fromResult(argument(operation, "action", value, action)))

/**
 * The options of `start` and `execute`: `application` a name, `key` a key (`""` included). Left-out options stay
 * left out.
 */
export const startOptionsArgument = (
  operation: string,
  value: unknown
): Effect.Effect<Actions.StartOptions, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf(operation)
      const options = (yield* check("options", value, optionsObject)) ?? {}
      const application = yield* check("options.application", options.application, optional(name))
      const startKey = yield* check("options.key", options.key, optional(key))
      return {
        ...(application === undefined ? {} : { application }),
        ...(startKey === undefined ? {} : { key: startKey })
      }
    }))
  )

/** The options of `startByName` and `executeByName`: `key` a key (`""` included). */
export const keyOptionsArgument = (
  operation: string,
  value: unknown
): Effect.Effect<{ readonly key?: string }, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf(operation)
      const options = (yield* check("options", value, optionsObject)) ?? {}
      const startKey = yield* check("options.key", options.key, optional(key))
      return startKey === undefined ? {} : { key: startKey }
    }))
  )

const refObject: Check<Readonly<Record<string, unknown>>> = (value) =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? Result.succeed(value as Readonly<Record<string, unknown>>)
    : reject("an object { application, action }")

/** The action reference of the untyped entry points: an object of two names. */
export const actionRefArgument = (
  operation: string,
  value: unknown
): Effect.Effect<Actions.ActionRef, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf(operation)
      const ref = yield* check("ref", value, refObject)
      return {
        application: yield* check("ref.application", ref.application, name),
        action: yield* check("ref.action", ref.action, name)
      }
    }))
  )

/** The largest page of `list`. */
export const maxListLimit = 1000
/** The page size of `list` when `limit` is left out. */
export const defaultListLimit = 50

/** The options of `list`, checked, with the default page size; left-out filters are left out. */
export interface CheckedListOptions {
  readonly statuses?: ReadonlyArray<DeploymentStatus>
  readonly application?: string
  readonly action?: string
  readonly key?: string
  readonly createdBefore?: number
  readonly createdAfter?: number
  readonly limit: number
  readonly cursor?: string
}

/** The filter of `counts`: `application` and `action` names. */
export const countsArgument = (
  value: unknown
): Effect.Effect<{ readonly application?: string; readonly action?: string }, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf("counts")
      const filter = (yield* check("filter", value, optionsObject)) ?? {}
      const application = yield* check("filter.application", filter.application, optional(name))
      const action = yield* check("filter.action", filter.action, optional(name))
      return {
        ...(application === undefined ? {} : { application }),
        ...(action === undefined ? {} : { action })
      }
    }))
  )

/**
 * The options of `list`: `limit` an integer from 1 to 1000 (never clamped), `statuses` a non-empty array of known
 * statuses, `application` and `action` names, `key` a key, `createdBefore` and `createdAfter` `DateTime.Utc`s,
 * `cursor` a storable string.
 */
export const listOptionsArgument = (value: unknown): Effect.Effect<CheckedListOptions, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf("list")
      const options = (yield* check("options", value, optionsObject)) ?? {}
      const statusFilter = yield* check("options.statuses", options.statuses, optional(statuses))
      const application = yield* check("options.application", options.application, optional(name))
      const actionName = yield* check("options.action", options.action, optional(name))
      const listKey = yield* check("options.key", options.key, optional(key))
      const limit = yield* check("options.limit", options.limit, optional(integer(1, maxListLimit)))
      const cursor = yield* check("options.cursor", options.cursor, optional(storableString))
      const createdBefore = yield* check("options.createdBefore", options.createdBefore, optional(utc))
      const createdAfter = yield* check("options.createdAfter", options.createdAfter, optional(utc))
      return {
        limit: limit ?? defaultListLimit,
        ...(createdBefore === undefined ? {} : { createdBefore: DateTime.toEpochMillis(createdBefore) }),
        ...(createdAfter === undefined ? {} : { createdAfter: DateTime.toEpochMillis(createdAfter) }),
        ...(statusFilter === undefined ? {} : { statuses: statusFilter }),
        ...(application === undefined ? {} : { application }),
        ...(actionName === undefined ? {} : { action: actionName }),
        ...(listKey === undefined ? {} : { key: listKey }),
        ...(cursor === undefined ? {} : { cursor })
      }
    }))
  )

/** The options of `errors`: `job` a name. */
export const errorsOptionsArgument = (value: unknown): Effect.Effect<{ readonly job?: string }, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf("errors")
      const options = (yield* check("options", value, optionsObject)) ?? {}
      const job = yield* check("options.job", options.job, optional(name))
      return job === undefined ? {} : { job }
    }))
  )

const pruneObject: Check<Readonly<Record<string, unknown>>> = (value) =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? Result.succeed(value as Readonly<Record<string, unknown>>)
    : reject("an object { olderThan }")

/** The options of `prune`: `olderThan` a finite duration of at least zero. Returns the duration. */
export const pruneOptionsArgument = (value: unknown): Effect.Effect<Duration.Duration, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf("prune")
      const options = yield* check("options", value, pruneObject)
      return yield* check("options.olderThan", options.olderThan, duration(zeroBound))
    }))
  )

const jobField = (job: unknown, field: "name" | "timeout" | "onFailure"): unknown =>
  typeof job === "object" && job !== null ? (job as Readonly<Record<string, unknown>>)[field] : undefined

/** A `DateTime.Utc` of a finite time. */
export const utc: Check<DateTime.Utc> = (value) =>
  DateTime.isDateTime(value) && DateTime.isUtc(value) && Number.isFinite(DateTime.toEpochMillis(value))
    ? Result.succeed(value)
    : reject("a DateTime.Utc")

/** A failure policy: `"rollback"` or `"pause"`. */
export const failurePolicy: Check<"rollback" | "pause"> = (value) =>
  value === "rollback" || value === "pause" ? Result.succeed(value) : reject(`"rollback" or "pause"`)

/** A job's `timeout`: a finite duration longer than zero (a zero timeout would fail every run). */
const jobTimeout = duration(bound(0, "0 millis", true))

/**
 * The arguments of `register`: an action made by `Action.make`, and the application (when given), the action's name
 * and each job's name valid names (a name no store can hold would make every later claim of this process fail);
 * each job's `timeout`, when it has one, a finite duration longer than zero (checked here, not when a run reaches
 * it).
 */
export const registerArguments = (
  actionValue: unknown,
  optionsValue: unknown
): Effect.Effect<{ readonly action: Action.Any; readonly application: string | undefined }, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf("register")
      const checked = yield* check("action", actionValue, action)
      const options = (yield* check("options", optionsValue, optionsObject)) ?? {}
      const application = yield* check("options.application", options.application, optional(name))
      yield* check("action.name", checked.name, name)
      yield* check("action.onFailure", checked.onFailure, optional(failurePolicy))
      for (let index = 0; index < checked.jobs.length; index++) {
        const job = checked.jobs[index]
        yield* check(`action.jobs[${index}].name`, jobField(job, "name"), name)
        yield* check(`action.jobs[${index}].timeout`, jobField(job, "timeout"), optional(jobTimeout))
        yield* check(`action.jobs[${index}].onFailure`, jobField(job, "onFailure"), optional(failurePolicy))
      }
      return { action: checked, application }
    }))
  )
