/**
 * Validation of everything that enters the runtime from its caller: the arguments of the public operations, each
 * checked where it enters (an `InvalidArgument` naming the operation and the argument, and the operation does
 * nothing). The checks themselves are in `checks.ts` and the options of `Actions.layer` in `validateOptions.ts`;
 * both are re-exported here, so that a caller imports one module for validation. The ranges are documented in
 * `docs/limits.md`.
 *
 * @internal
 */
import { DateTime, type Duration, Effect, Result } from "effect"
import type * as Action from "../Action.ts"
import { InvalidArgument } from "../ActionError.ts"
import type * as Actions from "../Actions.ts"
import type { DeploymentStatus } from "../Deployment.ts"
import {
  action,
  bound,
  type Check,
  describeValue,
  duration,
  integer,
  key,
  name,
  optional,
  optionsObject,
  reject,
  statuses,
  storableString,
  string
} from "./checks.ts"
import { zeroBound } from "./validateOptions.ts"

export * from "./checks.ts"
export * from "./validateOptions.ts"

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
