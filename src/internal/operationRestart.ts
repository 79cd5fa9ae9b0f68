/**
 * `restart`: a new deployment of a finished deployment's action, as registered in this process, with the same
 * first input, linked to the one it restarts (`restartOf`); the restart is recorded in the old one's history.
 *
 * The new deployment's id is the same in every process for the same restart (`restartIdOf`: the old one's id and
 * how many restarts its history records), and a create is idempotent by id: two restarts of one deployment asked
 * at once (two operators, two processes) create one deployment, and a restart repeated after a failure to record it
 * finds the one it created.
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

/**
 * The id of a deployment's restart number `n` (0 for its first): a UUID (version 8, custom) of the first 128 bits
 * of a SHA-256 of the deployment's id and `n`.
 */
export const restartIdOf = (deploymentId: string, n: number): Effect.Effect<string> => {
  const text = new TextEncoder().encode(`effect-actions restart ${deploymentId.toLowerCase()} ${n}`)
  return Effect.map(Effect.promise(() => crypto.subtle.digest("SHA-256", text)), (digest) => {
    const bytes = new Uint8Array(digest).subarray(0, 16)
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")
    const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
    return [hex.slice(0, 8), hex.slice(8, 12), `8${hex.slice(13, 16)}`, variant + hex.slice(17, 20), hex.slice(20)]
      .join("-")
  })
}

/** The id of the next restart of a deployment: by the restarts its history records as done. */
const nextRestartId = (ctx: OperationsContext, deploymentId: string) =>
  Effect.flatMap(retryTransient(ctx.env.store.history(deploymentId)), (history) =>
    restartIdOf(
      deploymentId,
      history.filter((entry) => entry.operation === "restart" && entry.outcome === "done").length
    ))

/**
 * `restart`: a new deployment of the action, as registered here, with the same first input. One operation on a
 * deployment at a time in this process (as for take-overs): two restarts here would derive the same id, and the
 * second would take the first's create, not yet launched, for a lost reply of its own and run it a second time.
 */
export const restartHere = (
  ctx: OperationsContext,
  applied: Applied,
  reg: Registration,
  snapshot: Snapshot,
  at: number
) =>
  Effect.suspend(() => {
    const id = snapshot.deployment.id
    if (ctx.taking.has(id)) {
      const text = "another operation on this deployment is being applied"
      return Effect.fail(refused(applied, snapshot.deployment, "changed", text))
    }
    ctx.taking.add(id)
    return Effect.ensuring(restartOnce(ctx, applied, reg, snapshot, at), Effect.sync(() => ctx.taking.delete(id)))
  })

const restartOnce = (
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
    const id = applied.request?.restartId ?? (yield* nextRestartId(ctx, row.id))
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
