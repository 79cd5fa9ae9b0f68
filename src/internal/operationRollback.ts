/**
 * The operations that take a deployment over to run it backward: `rollback` and `stop` of a paused deployment, and
 * `retryRollback` of a `rollback_failed` one.
 *
 * @internal
 */
import { Effect } from "effect"
import type { Checkpoint, Snapshot } from "../DeploymentStore.ts"
import { type Applied, historyRow, type OperationsContext, transitionOf } from "./operationContext.ts"
import { takeOver } from "./operationTakeOver.ts"
import type { Registration } from "./registration.ts"
import type { Event } from "./transitionModels.ts"

/** What an operation that runs a deployment backward computes: its transition's event and its history entry. */
type Backward = (snapshot: Snapshot, at: number, reg: Registration) => {
  readonly event: Event
  readonly entry: (checkpoint: Omit<Checkpoint, "fence">) => { readonly job?: string; readonly message?: string }
}

/** Takes the deployment over with the checkpoint the transition computes, and records the operation as done. */
const backward = (operation: Backward) =>
(
  ctx: OperationsContext,
  applied: Applied,
  reg: Registration,
  snapshot: Snapshot,
  at: number
) => {
  const { entry, event } = operation(snapshot, at, reg)
  return Effect.flatMap(transitionOf(applied, reg, snapshot, event), (checkpoint) =>
    takeOver(ctx, applied, reg, snapshot.deployment, at, {
      checkpoint,
      history: historyRow(ctx, applied, "done", at, entry(checkpoint))
    }))
}

/** The job a paused deployment stopped at, by its registered name. */
const pausedJob = (snapshot: Snapshot, reg: Registration) => ({ job: reg.jobs[snapshot.deployment.currentJob]!.job.name })

/** `rollback` of a paused deployment: it rolls back as if its job had failed now. */
export const rollbackHere = backward((snapshot, at, reg) => ({
  event: { _tag: "Rollback", at },
  entry: () => pausedJob(snapshot, reg)
}))

/** `stop` of a paused deployment: it rolls back with `ExecutionStopped` as its failure. */
export const stopPausedHere = backward((snapshot, at, reg) => ({
  event: { _tag: "StopRequested", at },
  entry: () => pausedJob(snapshot, reg)
}))

/** `retryRollback`: the failed rollbacks get back the status they had before, and the rollback runs again. */
export const retryRollbackHere = backward((snapshot, at) => ({
  event: { _tag: "RetryRollback", at },
  entry: (checkpoint) => ({
    message: `rollbacks of ${checkpoint.jobs.map((job) => `"${snapshot.jobs[job.index]!.name}"`).join(", ")}`
  })
}))
