/**
 * Carrying out requests: at each recovery pass, a process carries out the pending requests (recorded by processes
 * without the action, `operationRequests.ts`) that it can, through the same path as an operation asked here. A
 * request that no longer applies is refused, and the refusal recorded in the history.
 *
 * @internal
 */
import { Clock, Effect } from "effect"
import { OperationRefused } from "../ActionError.ts"
import { apply, operate } from "./operationApply.ts"
import { type Applied, historyRow, NotHere, type OperationsContext, read } from "./operationContext.ts"
import { retryTransient } from "./transient.ts"

/**
 * Carries out the pending requests this process can (its recovery pass calls it). A request that does not apply
 * any more is refused: the refusal is recorded in the history, and the request cleared. Returns the ids of the
 * deployments whose request was carried out.
 */
export const carryRequests = (ctx: OperationsContext, limit: number) =>
  Effect.gen(function*() {
    const runnable = ctx.runnable()
    if (runnable.length === 0 || limit <= 0) return []
    const rows = yield* ctx.env.store.findRequests({ runnable, limit })
    const carried: Array<string> = []
    for (const row of rows) {
      const pending = row.request
      if (pending === undefined) continue
      const applied: Applied = {
        operation: pending.operation,
        deploymentId: row.id,
        reason: pending.reason,
        input: pending.input === undefined ? undefined : { value: pending.input },
        key: pending.key,
        request: pending
      }
      const result = yield* Effect.result(apply(ctx, applied))
      if (result._tag === "Success") {
        carried.push(row.id)
        continue
      }
      const error = result.failure
      if (error instanceof NotHere || (error instanceof OperationRefused && error.reason === "changed")) continue
      if (error._tag === "PersistenceError") {
        yield* Effect.logWarning(`carrying out the ${pending.operation} request of deployment ${row.id} failed`, error)
        continue
      }
      const at = yield* Clock.currentTimeMillis
      yield* Effect.logWarning(`the ${pending.operation} request of deployment ${row.id} is refused: ${error.message}`)
      yield* Effect.ignore(retryTransient(ctx.env.store.recordOperation(
        row.id,
        historyRow(ctx, applied, "refused", at, { message: error.message }),
        pending.id
      )))
    }
    return carried
  })

/**
 * Carries out, right after the pause, the stop request that a pause written over a stop flag recorded
 * (`DeploymentPatch.stopRequest`: a stop asked while the failure was being paused). If this process does not (it
 * dies, or is released first), any process that has the action carries the request out at its next recovery pass.
 * Without that request pending (another one was), the stop is applied as an operator's would be.
 */
export const carryStop = (ctx: OperationsContext, deploymentId: string, reason: string) =>
  Effect.gen(function*() {
    const pending = (yield* read(ctx, deploymentId)).deployment.request
    const checked = { deploymentId, reason, input: undefined, key: undefined }
    if (pending === undefined || pending.operation !== "stop") return yield* operate(ctx, "stop", checked)
    return yield* Effect.catchIf(
      apply(ctx, { ...checked, operation: "stop", reason: pending.reason, request: pending }),
      (error): error is NotHere => error instanceof NotHere,
      () => Effect.logInfo(`the stop of deployment ${deploymentId} is left for a process that has the action`)
    )
  })
