/**
 * The SQL store as the bench's processes use it: `SqlDeploymentStore` unchanged, except that every `claim` and
 * `heartbeat` call is timed (from the call to its decoded result, so the round trip, the server's work and the row
 * decoding) and reported as it ends. Nothing else differs from what `SqlDeploymentStore.layer` provides.
 */
import { Effect, Layer } from "effect"
import type { SqlClient } from "effect/sql"
import { DeploymentStore, SqlDeploymentStore } from "../../src/index.ts"
import { epochMillis, type StoreEvent, tablePrefix } from "./recoveryAction.ts"

/** Runs `effect`, then hands its wall-clock duration (ms) and its result to `report`. */
const timed = <A, E>(
  effect: Effect.Effect<A, E>,
  report: (startedAt: number, millis: number, result: A) => void
): Effect.Effect<A, E> =>
  Effect.suspend(() => {
    const startedAt = epochMillis()
    const started = performance.now()
    return Effect.tap(effect, (result) => Effect.sync(() => report(startedAt, performance.now() - started, result)))
  })

/** `SqlDeploymentStore.layer` on the bench's tables, reporting every claim and heartbeat to `report`. */
export const timedStoreLayer = (
  report: (event: StoreEvent) => void
): Layer.Layer<DeploymentStore.DeploymentStore, never, SqlClient.SqlClient> =>
  Layer.effect(
    DeploymentStore.DeploymentStore,
    Effect.map(Effect.orDie(SqlDeploymentStore.make({ prefix: tablePrefix })), (store): DeploymentStore.DeploymentStoreShape => ({
      ...store,
      claim: (request) =>
        timed(store.claim(request), (at, millis, claimed) =>
          report({ type: "claim", at, millis, claimed: claimed.length })),
      heartbeat: (request) =>
        timed(store.heartbeat(request), (at, millis, held) =>
          report({ type: "heartbeat", at, millis, ids: request.deploymentIds.length, held: held.length }))
    }))
  )
