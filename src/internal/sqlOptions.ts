/**
 * The options of the SQL deployment store, checked where they enter (when a layer is built): a bad value is an
 * `InvalidOption` naming the option and what it accepts, and nothing else happens.
 *
 * @internal
 */
import { Duration, Effect, Option } from "effect"
import { InvalidOption } from "../ActionError.ts"
import type { Batching } from "./sqlCheckpoints.ts"
import { defaultPrefix, isValidPrefix, prefixExpected, type Tables, tablesFor } from "./sqlTables.ts"

/** The default bound on every store statement. */
export const defaultStatementTimeout = Duration.seconds(30)
/** The default bound on waiting for a row lock. */
export const defaultLockTimeout = Duration.seconds(10)
/** The shortest and longest timeouts accepted (both options). */
const minTimeoutMillis = 1
const maxTimeout = Duration.hours(24)
const maxTimeoutMillis = Duration.toMillis(maxTimeout)

/** The options as given (see `SqlDeploymentStore.Options`). */
export interface RawOptions {
  readonly prefix?: string | undefined
  readonly statementTimeout?: Duration.Input | undefined
  readonly lockTimeout?: Duration.Input | undefined
  readonly checkpointBatch?: number | undefined
  readonly checkpointWriters?: number | undefined
}

/** The options once checked. */
export interface ResolvedOptions {
  readonly tables: Tables
  /** Whole milliseconds, at least 1. */
  readonly statementTimeoutMillis: number
  /** Whole milliseconds, at least 1 and at most the statement timeout. */
  readonly lockTimeoutMillis: number
  /** The checkpoint batching: whole numbers within their ranges. */
  readonly batching: Batching
}

/** The default and the largest number of checkpoints in one statement. */
export const defaultCheckpointBatch = 64
const maxCheckpointBatch = 1000
/** The default and the largest number of checkpoint statements in flight at once. */
export const defaultCheckpointWriters = 2
const maxCheckpointWriters = 100

const shown = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value)
  if (Duration.isDuration(value)) return Duration.format(value)
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value)
  if (value === null || value === undefined) return String(value)
  try {
    return JSON.stringify(value) ?? typeof value
  } catch {
    return typeof value
  }
}

/** A duration option in whole milliseconds (rounded up) within `[1 ms, max]`, or why it is not one. */
const durationMillis = (
  option: string,
  value: unknown,
  maxMillis: number,
  maxText: string
): Effect.Effect<number, InvalidOption> => {
  const expected = `a duration from 1 millisecond to ${maxText} (a number of milliseconds, "30 seconds", a Duration)`
  const invalid = new InvalidOption({ option, value: shown(value), expected })
  if (typeof value === "number" && !Number.isFinite(value)) return Effect.fail(invalid)
  const decoded = Duration.fromInput(value as Duration.Input)
  if (Option.isNone(decoded)) return Effect.fail(invalid)
  const millis = Duration.toMillis(decoded.value)
  if (!(millis >= minTimeoutMillis && millis <= maxMillis)) return Effect.fail(invalid)
  return Effect.succeed(Math.ceil(millis))
}

/** A whole number option within `[1, max]`, or why it is not one. */
const wholeNumber = (option: string, value: unknown, max: number): Effect.Effect<number, InvalidOption> =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 1 && value <= max
    ? Effect.succeed(value)
    : Effect.fail(new InvalidOption({ option, value: shown(value), expected: `a whole number from 1 to ${max}` }))

/** Checks the store's options; fails with the first invalid one. */
export const resolveOptions = Effect.fnUntraced(function*(options: RawOptions | undefined) {
  const prefix: unknown = options?.prefix ?? defaultPrefix
  if (typeof prefix !== "string" || !isValidPrefix(prefix)) {
    return yield* new InvalidOption({ option: "prefix", value: shown(prefix), expected: prefixExpected })
  }
  const statementTimeoutMillis = yield* durationMillis(
    "statementTimeout",
    options?.statementTimeout ?? defaultStatementTimeout,
    maxTimeoutMillis,
    Duration.format(maxTimeout)
  )
  const lockTimeoutMillis = options?.lockTimeout === undefined
    ? Math.min(Duration.toMillis(defaultLockTimeout), statementTimeoutMillis)
    : yield* durationMillis(
      "lockTimeout",
      options.lockTimeout,
      statementTimeoutMillis,
      `statementTimeout (${Duration.format(Duration.millis(statementTimeoutMillis))})`
    )
  const batching = {
    maxBatch: yield* wholeNumber("checkpointBatch", options?.checkpointBatch ?? defaultCheckpointBatch, maxCheckpointBatch),
    writers: yield* wholeNumber(
      "checkpointWriters",
      options?.checkpointWriters ?? defaultCheckpointWriters,
      maxCheckpointWriters
    )
  }
  return { tables: tablesFor(prefix), statementTimeoutMillis, lockTimeoutMillis, batching } satisfies ResolvedOptions
})

/** Checks the options and returns the table names (what the migrations use; the other options are checked too). */
export const resolveTables = (options: RawOptions | undefined) =>
  Effect.map(resolveOptions(options), (resolved) => resolved.tables)
