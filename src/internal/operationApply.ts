/**
 * Applying one operation: it reads the deployment, checks that the operation applies to its status and that no other
 * request is pending, and then carries it out here when this process has the action (`retry`, `rollback`, `stop`,
 * `retryRollback`, `restart`), or records it as a request when it does not. `stop` of a running deployment is the
 * stop flag, which its owner sees wherever it runs.
 *
 * @internal
 */
import { Clock, Effect, Option } from "effect"
import {
  DeploymentNotFound,
  DeploymentNotRunning,
  type InputValidationError,
  type OperationRefused,
  type PersistenceError,
  type StoredDataCorrupt
} from "../ActionError.ts"
import type * as Actions from "../Actions.ts"
import type { Operation } from "../Deployment.ts"
import { parkedError } from "./awaiting.ts"
import { corruptJobRecords } from "./jobRecords.ts"
import {
  type Applied,
  appliesTo,
  historyRow,
  NotHere,
  type OperationsContext,
  pendingText,
  read,
  receipt,
  refused
} from "./operationContext.ts"
import { request } from "./operationRequests.ts"
import { restartHere } from "./operationRestart.ts"
import { retryHere } from "./operationRetry.ts"
import { retryRollbackHere, rollbackHere, stopPausedHere } from "./operationRollback.ts"
import type { CheckedOperation } from "./validateOperations.ts"
import { retryTransient } from "./transient.ts"

/**
 * `stop` of a running deployment: the stop flag, which its owner sees wherever it runs. `id` is the deployment's id
 * as stored (the local runs are keyed by it, whatever letter case the caller gave).
 */
const stopRunning = (ctx: OperationsContext, applied: Applied, id: string, at: number) =>
  Effect.gen(function*() {
    const result = yield* retryTransient(
      ctx.env.store.requestStop(applied.deploymentId, at, historyRow(ctx, applied, "done", at, {}))
    )
    switch (result._tag) {
      case "NotFound":
        return yield* new DeploymentNotFound({ deploymentId: applied.deploymentId })
      case "Parked":
        return yield* parkedError(applied.deploymentId, result.parked)
      case "NotRunning":
        return Option.some(result.status)
      case "Requested":
        yield* ctx.interruptLocal(id)
        yield* Effect.logInfo(`stop requested for deployment ${applied.deploymentId}`)
        return Option.none()
    }
  })

/** Applies one operation: here when this process has the action, else as a request. */
export const apply = (
  ctx: OperationsContext,
  applied: Applied,
  attempt = 0
): Effect.Effect<
  Actions.OperationReceipt,
  | DeploymentNotFound
  | DeploymentNotRunning
  | OperationRefused
  | StoredDataCorrupt
  | InputValidationError
  | PersistenceError
  | NotHere
> =>
  Effect.gen(function*() {
    const snapshot = yield* read(ctx, applied.deploymentId)
    const row = snapshot.deployment
    const at = yield* Clock.currentTimeMillis
    if (row.parked !== undefined) return yield* parkedError(row.id, row.parked)
    const pending = row.request
    if (applied.request !== undefined && pending?.id !== applied.request.id) {
      return yield* refused(applied, row, "changed", "the request was carried out or replaced meanwhile")
    }
    if (applied.request === undefined && pending !== undefined) {
      return yield* refused(applied, row, "request_pending", pendingText(pending))
    }
    if (applied.operation === "stop" && row.status === "running" && applied.request === undefined) {
      const notRunning = yield* stopRunning(ctx, applied, row.id, at)
      if (Option.isNone(notRunning)) return receipt(applied, "done")
      // It paused or ended between the read and the stop: the operation is judged again, once.
      if (attempt === 0) return yield* apply(ctx, applied, 1)
      return yield* new DeploymentNotRunning({ deploymentId: row.id, status: notRunning.value })
    }
    if (!appliesTo[applied.operation].includes(row.status) || (applied.operation === "stop" && row.status === "running")) {
      if (applied.operation === "stop") return yield* new DeploymentNotRunning({ deploymentId: row.id, status: row.status })
      return yield* refused(
        applied,
        row,
        "status",
        `${applied.operation} applies to a ${appliesTo[applied.operation].join(" or ")} deployment`
      )
    }
    const reg = applied.operation === "restart"
      ? ctx.registrationFor(row.application, row.action)
      : ctx.registrationOf(row)
    if (reg === undefined) {
      if (applied.request !== undefined) return yield* Effect.fail(new NotHere())
      return yield* request(ctx, applied, snapshot, at)
    }
    // Records in another shape than the runtime relies on are reported, and no operation writes over them. A restart
    // writes nothing to them, and may start a deployment of another definition of the action (other job names).
    const corrupt = applied.operation === "restart" ? undefined : corruptJobRecords(row.id, snapshot.jobs, reg.jobs)
    if (corrupt !== undefined) return yield* corrupt
    switch (applied.operation) {
      case "retry":
        return yield* retryHere(ctx, applied, reg, snapshot, at)
      case "rollback":
        return yield* rollbackHere(ctx, applied, reg, snapshot, at)
      case "stop":
        return yield* stopPausedHere(ctx, applied, reg, snapshot, at)
      case "retry_rollback":
        return yield* retryRollbackHere(ctx, applied, reg, snapshot, at)
      case "restart":
        return yield* restartHere(ctx, applied, reg, snapshot, at)
    }
  })

/** Applies an operation asked in this process. */
export const operate = (ctx: OperationsContext, operation: Operation, checked: CheckedOperation) =>
  Effect.catchIf(
    apply(ctx, { ...checked, operation, request: undefined }),
    (error): error is NotHere => error instanceof NotHere,
    // Never met without a request: a process without the action records a request instead.
    () => Effect.die(new Error("an operation without a request was left for another process"))
  )
