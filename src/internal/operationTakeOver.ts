/**
 * Taking a deployment over for an operation carried out here: one compare-and-set write (`DeploymentStore.takeOver`)
 * that applies the operation's checkpoint and history only if the deployment is still as it was read, and makes this
 * process its lease holder; then the deployment runs here.
 *
 * @internal
 */
import { Effect } from "effect"
import { DeploymentNotFound } from "../ActionError.ts"
import type { DeploymentRow, Snapshot } from "../DeploymentStore.ts"
import {
  type Applied,
  type OperationsContext,
  read,
  receipt,
  refused,
  type TakeOverChange
} from "./operationContext.ts"
import type { Registration } from "./registration.ts"
import { retryTransient } from "./transient.ts"

/**
 * Takes the deployment over as it was read, applying the operation's patches, and runs it here. A takeover whose
 * reply was lost and that committed all the same is recognised (the deployment is ours, one epoch on).
 */
export const takeOver = (
  ctx: OperationsContext,
  applied: Applied,
  reg: Registration,
  row: DeploymentRow,
  at: number,
  change: TakeOverChange
) =>
  Effect.suspend(() => {
    // One takeover of a deployment at a time in this process: a second one would take a lost reply of the first
    // for its own.
    if (ctx.taking.has(row.id)) {
      return Effect.fail(refused(applied, row, "changed", "another operation on this deployment is being applied"))
    }
    ctx.taking.add(row.id)
    return Effect.ensuring(takeOverOnce(ctx, applied, reg, row, at, change), Effect.sync(() => ctx.taking.delete(row.id)))
  })

/**
 * Whether the deployment's history holds the entry this take-over writes: a take-over that committed though its reply
 * was lost. Owner and epoch alone cannot tell it from another operation's take-over by this process in between (that
 * one launched and then stopped locally, its lease kept): only this take-over writes this operation's entry, by this
 * process, at this time (one take-over of a deployment at a time runs here, each after a round trip).
 */
const wroteHistory = (ctx: OperationsContext, deploymentId: string, entry: TakeOverChange["history"]) =>
  Effect.map(retryTransient(ctx.env.store.history(deploymentId)), (history) =>
    history.some((row) =>
      row.operation === entry.operation && row.outcome === entry.outcome && row.at === entry.at && row.by === entry.by
    ))

const takeOverOnce = (
  ctx: OperationsContext,
  applied: Applied,
  reg: Registration,
  row: DeploymentRow,
  at: number,
  change: TakeOverChange
) =>
  Effect.gen(function*() {
    const result = yield* ctx.whileOpen(retryTransient(ctx.env.store.takeOver({
      deploymentId: row.id,
      expect: {
        status: row.status,
        leaseEpoch: row.leaseEpoch,
        ...(applied.request === undefined ? {} : { requestId: applied.request.id })
      },
      owner: ctx.owner,
      now: at,
      leaseTtlMillis: ctx.leaseTtlMillis,
      at,
      deployment: change.checkpoint.deployment,
      jobs: change.checkpoint.jobs,
      errors: change.checkpoint.errors,
      history: change.history
    })))
    if (result._tag === "NotFound") return yield* new DeploymentNotFound({ deploymentId: row.id })
    let snapshot: Snapshot
    if (result._tag === "Changed") {
      const now = result.deployment
      const ours = now.owner === ctx.owner && now.leaseEpoch === row.leaseEpoch + 1 && !ctx.isRunning(row.id) &&
        (yield* wroteHistory(ctx, row.id, change.history))
      if (!ours) {
        return yield* refused(applied, now, "changed", "the deployment changed while the operation was applied: read it again")
      }
      snapshot = yield* read(ctx, row.id)
    } else {
      snapshot = result.snapshot
    }
    yield* ctx.launch(reg, snapshot)
    yield* Effect.logInfo(`${applied.operation} of deployment ${row.id} carried out`)
    return receipt(applied, "done")
  })
