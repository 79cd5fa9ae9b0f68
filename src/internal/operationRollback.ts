/**
 * The operations that take a deployment over to run it backward: `rollback` and `stop` of a paused deployment, and
 * `retryRollback` of a `rollback_failed` one.
 *
 * @internal
 */
import { Effect } from "effect"
import type { Snapshot } from "../DeploymentStore.ts"
import { type Applied, historyRow, type OperationsContext, transitionOf } from "./operationContext.ts"
import { takeOver } from "./operationTakeOver.ts"
import type { Registration } from "./registration.ts"

/** `rollback` of a paused deployment: it rolls back as if its job had failed now. */
export const rollbackHere = (
  ctx: OperationsContext,
  applied: Applied,
  reg: Registration,
  snapshot: Snapshot,
  at: number
) =>
  Effect.gen(function*() {
    const row = snapshot.deployment
    return yield* takeOver(ctx, applied, reg, row, at, {
      checkpoint: yield* transitionOf(applied, reg, snapshot, { _tag: "Rollback", at }),
      history: historyRow(ctx, applied, "done", at, { job: reg.jobs[row.currentJob]!.job.name })
    })
  })

/** `stop` of a paused deployment: it rolls back with `ExecutionStopped` as its failure. */
export const stopPausedHere = (
  ctx: OperationsContext,
  applied: Applied,
  reg: Registration,
  snapshot: Snapshot,
  at: number
) =>
  Effect.flatMap(transitionOf(applied, reg, snapshot, { _tag: "StopRequested", at }), (checkpoint) =>
    takeOver(ctx, applied, reg, snapshot.deployment, at, {
      checkpoint,
      history: historyRow(ctx, applied, "done", at, { job: reg.jobs[snapshot.deployment.currentJob]!.job.name })
    }))

/** `retryRollback`: the failed rollbacks get back the status they had before, and the rollback runs again. */
export const retryRollbackHere = (
  ctx: OperationsContext,
  applied: Applied,
  reg: Registration,
  snapshot: Snapshot,
  at: number
) =>
  Effect.flatMap(transitionOf(applied, reg, snapshot, { _tag: "RetryRollback", at }), (checkpoint) =>
    takeOver(ctx, applied, reg, snapshot.deployment, at, {
      checkpoint,
      history: historyRow(ctx, applied, "done", at, {
        message: `rollbacks of ${checkpoint.jobs.map((job) => `"${snapshot.jobs[job.index]!.name}"`).join(", ")}`
      })
    }))
