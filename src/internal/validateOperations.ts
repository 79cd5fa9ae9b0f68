/**
 * The argument checks of the operators' operations (`stop`, `retry`, `rollback`, `retryRollback`, `restart`,
 * `bulk`): a bad argument is an `InvalidArgument`, and nothing is done.
 *
 * @internal
 */
import { DateTime, Effect, Result } from "effect"
import type { InvalidArgument } from "../ActionError.ts"
import type * as Actions from "../Actions.ts"
import type { DeploymentStatus, Operation } from "../Deployment.ts"
import { jsonIssue } from "./storable.ts"
import {
  argumentsOf,
  boolean,
  type Check,
  key,
  name,
  optional,
  optionsObject,
  reject,
  statuses,
  storableString,
  utc
} from "./validate.ts"

/** The longest `reason` an operator may give, in characters. */
export const maxReasonLength = 4096

/** An operator's reason: a storable string of at most `maxReasonLength` characters. */
const reason: Check<string> = (value) => {
  const checked = storableString(value)
  if (Result.isFailure(checked)) return checked
  return checked.success.length <= maxReasonLength
    ? checked
    : reject(`a string of at most ${maxReasonLength} characters`, `a string of ${checked.success.length} characters`)
}

/** What is not JSON in a value (a function, `undefined`, a non-finite number, a class instance...), iteratively. */
const notJson = (value: unknown): string | undefined => {
  const stack: Array<unknown> = [value]
  while (stack.length > 0) {
    const current = stack.pop()
    if (current === null || typeof current === "string" || typeof current === "boolean") continue
    if (typeof current === "number") {
      if (!Number.isFinite(current)) return `holds the number ${current}`
      continue
    }
    if (Array.isArray(current)) {
      for (const item of current) stack.push(item)
      continue
    }
    if (typeof current === "object" && Object.getPrototypeOf(current) === Object.prototype) {
      for (const item of Object.values(current)) stack.push(item)
      continue
    }
    return `holds ${typeof current === "object" ? "an object that is not a plain object" : typeof current}`
  }
  return undefined
}

/** A value a store can hold as JSON: a replacement input, in its encoded form. */
const json: Check<unknown> = (value) => {
  const issue = notJson(value) ?? jsonIssue(value)
  return issue === undefined ? Result.succeed(value) : reject("a JSON value a store can hold", `a value that ${issue}`)
}

const bulkOperations: ReadonlyArray<Actions.BulkOptions["operation"]> = ["stop", "retry", "rollback", "retry_rollback"]

const bulkOperation: Check<Actions.BulkOptions["operation"]> = (value) =>
  bulkOperations.includes(value as Actions.BulkOptions["operation"])
    ? Result.succeed(value as Actions.BulkOptions["operation"])
    : reject(bulkOperations.map((operation) => `"${operation}"`).join(", "))

/** The checked arguments of one operation. */
export interface CheckedOperation {
  readonly deploymentId: string
  readonly reason: string | undefined
  /** `retry`: the replacement input, when one is given (`null` is an input like any other). */
  readonly input: { readonly value: unknown } | undefined
  /** `restart`: the new deployment's key. */
  readonly key: string | undefined
}

/**
 * The arguments of one operation: a deployment id, and options holding a `reason` (and for `retry` an `input`, for
 * `restart` a `key`).
 */
export const operationArguments = (
  operation: Operation,
  deploymentId: unknown,
  value: unknown
): Effect.Effect<CheckedOperation, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf(operation)
      const id = yield* check("deploymentId", deploymentId, storableString)
      const options = (yield* check("options", value, optionsObject)) ?? {}
      const checkedReason = yield* check("options.reason", options.reason, optional(reason))
      const input = operation === "retry" && "input" in options && options.input !== undefined
        ? { value: yield* check("options.input", options.input, json) }
        : undefined
      const restartKey = operation === "restart" ? yield* check("options.key", options.key, optional(key)) : undefined
      return { deploymentId: id, reason: checkedReason, input, key: restartKey }
    }))
  )

/** The checked options of `bulk`. */
export interface CheckedBulk {
  readonly operation: Actions.BulkOptions["operation"]
  readonly statuses: ReadonlyArray<DeploymentStatus> | undefined
  readonly application: string | undefined
  readonly action: string | undefined
  readonly createdBefore: number | undefined
  readonly createdAfter: number | undefined
  readonly dryRun: boolean
  readonly reason: string | undefined
}

/** The options of `bulk`: an operation, a filter of statuses, names and times, `dryRun`, `reason`. */
export const bulkArguments = (value: unknown): Effect.Effect<CheckedBulk, InvalidArgument> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const check = argumentsOf("bulk")
      const options = (yield* check("options", value, optionsObject)) ?? {}
      const operation = yield* check("options.operation", options.operation, bulkOperation)
      const filter = (yield* check("options.filter", options.filter, optionsObject)) ?? {}
      const createdBefore = yield* check("options.filter.createdBefore", filter.createdBefore, optional(utc))
      const createdAfter = yield* check("options.filter.createdAfter", filter.createdAfter, optional(utc))
      return {
        operation,
        statuses: yield* check("options.filter.statuses", filter.statuses, optional(statuses)),
        application: yield* check("options.filter.application", filter.application, optional(name)),
        action: yield* check("options.filter.action", filter.action, optional(name)),
        createdBefore: createdBefore === undefined ? undefined : DateTime.toEpochMillis(createdBefore),
        createdAfter: createdAfter === undefined ? undefined : DateTime.toEpochMillis(createdAfter),
        dryRun: (yield* check("options.dryRun", options.dryRun, optional(boolean))) ?? false,
        reason: yield* check("options.reason", options.reason, optional(reason))
      }
    }))
  )
