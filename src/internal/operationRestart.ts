/**
 * `restart`: a new deployment of a finished deployment's action, as registered in this process, with the same
 * first input, linked to the one it restarts (`restartOf`); the restart is recorded in the old one's history.
 *
 * @internal
 */
import { Effect } from "effect"
import type { Snapshot } from "../DeploymentStore.ts"
import {
  type Applied,
  historyRow,
  invalidInput,
  type OperationsContext,
  receipt,
  refused
} from "./operationContext.ts"
import type { Registration } from "./registration.ts"
import { retryTransient } from "./transient.ts"

/** `restart`: a new deployment of the action, as registered here, with the same first input. */
export const restartHere = (
  ctx: OperationsContext,
  applied: Applied,
  reg: Registration,
  snapshot: Snapshot,
  at: number
) =>
  Effect.gen(function*() {
    const row = snapshot.deployment
    const first = reg.jobs[0]!
    const stored = snapshot.jobs[0]?.input
    const decoded = yield* Effect.mapError(first.input.decode(stored), invalidInput(reg, 0))
    const input = yield* Effect.mapError(first.input.encode(decoded), invalidInput(reg, 0))
    const id = applied.request?.restartId ?? crypto.randomUUID()
    const restartedAs = yield* ctx.createRestart(reg, input, applied.key, id, row.id)
    const recorded = yield* retryTransient(ctx.env.store.recordOperation(
      row.id,
      historyRow(ctx, applied, "done", at, { message: `restarted as ${restartedAs}`, detail: { restartedAs } }),
      applied.request?.id
    ))
    if (!recorded && applied.request !== undefined) {
      return yield* refused(applied, row, "changed", "the request was carried out or replaced meanwhile")
    }
    return receipt(applied, "done", restartedAs)
  })
