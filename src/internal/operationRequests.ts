/**
 * Requests: an operation asked in a process that does not have the action (the CLI) is recorded on the deployment
 * (`requestOperation`), for a live process that has the action to carry out (`carryRequests.ts`).
 *
 * @internal
 */
import { Effect } from "effect"
import { DeploymentNotFound } from "../ActionError.ts"
import type { Json, Snapshot } from "../DeploymentStore.ts"
import { parkedError } from "./awaiting.ts"
import {
  type Applied,
  appliesTo,
  historyRow,
  type OperationsContext,
  pendingText,
  receipt,
  refused
} from "./operationContext.ts"
import { retryTransient } from "./transient.ts"

/** Records the operation as a request for a process that has the action. */
export const request = (ctx: OperationsContext, applied: Applied, snapshot: Snapshot, at: number) =>
  Effect.gen(function*() {
    const row = snapshot.deployment
    const restartId = applied.operation === "restart" ? crypto.randomUUID() : undefined
    const job = applied.operation === "retry" ? snapshot.jobs[row.currentJob]?.name : undefined
    const result = yield* retryTransient(ctx.env.store.requestOperation({
      deploymentId: row.id,
      statuses: applied.operation === "stop" ? ["paused"] : appliesTo[applied.operation],
      request: {
        id: crypto.randomUUID(),
        operation: applied.operation,
        by: ctx.owner,
        at,
        ...(applied.reason === undefined ? {} : { reason: applied.reason }),
        ...(applied.input === undefined ? {} : { input: applied.input.value as Json }),
        ...(restartId === undefined ? {} : { restartId }),
        ...(applied.key === undefined ? {} : { key: applied.key })
      },
      history: historyRow(ctx, applied, "requested", at, {
        ...(job === undefined ? {} : { job }),
        message: "this process does not have the action: a process that has it carries the operation out"
      })
    }))
    switch (result._tag) {
      case "NotFound":
        return yield* new DeploymentNotFound({ deploymentId: row.id })
      case "Parked":
        return yield* parkedError(row.id, result.parked)
      case "Refused":
        return yield* result.pending === undefined
          ? refused(applied, { ...row, status: result.status }, "status", "its status changed meanwhile")
          : refused(applied, { ...row, status: result.status }, "request_pending", pendingText(result.pending))
      case "Requested":
        yield* Effect.logInfo(`${applied.operation} of deployment ${row.id} requested`)
        return receipt(applied, "requested", restartId)
    }
  })
