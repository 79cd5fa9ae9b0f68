/**
 * Carrying out requests: at each recovery pass, a process carries out the pending requests (recorded by processes
 * without the action, `operationRequests.ts`) that it can, through the same path as an operation asked here. A
 * request that no longer applies is refused, and the refusal recorded in the history.
 *
 * @internal
 */
import { Clock, Effect } from "effect"
import { OperationRefused } from "../ActionError.ts"
import { apply } from "./operationApply.ts"
import { type Applied, historyRow, NotHere, type OperationsContext } from "./operationContext.ts"
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
