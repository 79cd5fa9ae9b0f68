/**
 * The leases of the deployments a process runs: one heartbeat statement renews all of them, and a local run whose
 * lease was lost, or whose deployment was asked to stop (at a heartbeat, or by the store's stop notifications), is
 * interrupted, told why.
 *
 * @internal
 */
import { Clock, type Duration, Effect, Fiber, Schedule, type Scope, Stream } from "effect"
import type { DeploymentStoreShape } from "../DeploymentStore.ts"
import type { Handle } from "./run.ts"

/** What the leases need from the runtime. */
export interface LeasesEnv {
  readonly store: DeploymentStoreShape
  readonly owner: string
  readonly leaseTtlMillis: number
  /** The local runs, by deployment id. */
  readonly running: ReadonlyMap<string, Handle>
  /** Where the runtime's background fibers live. */
  readonly scope: Scope.Scope
}

/** Builds the lease keeping of a runtime. */
export const makeLeases = (deps: LeasesEnv) => {
  const { owner, running, scope, store } = deps

  /** Interrupts the local run of a deployment, telling it why; does nothing when it does not run here. */
  const interruptLocal = (deploymentId: string, reason: "stop" | "lease_lost") =>
    Effect.suspend(() => {
      const handle = running.get(deploymentId)
      if (handle?.fiber === undefined || handle.interruptReason !== undefined) return Effect.void
      handle.interruptReason = reason
      return Effect.asVoid(Effect.forkIn(Fiber.interrupt(handle.fiber), scope))
    })

  /** Renews this process's leases; stops local runs whose lease was lost or that were asked to stop. */
  const heartbeat = Effect.gen(function*() {
    if (running.size === 0) return
    // Only the runs known before the call are judged by its answer: a run started (or claimed) while the call
    // was in flight is not in it, and has not lost anything.
    const judged = [...running.values()].map((handle) => ({ handle, epoch: handle.fence.epoch }))
    const held = yield* store.heartbeat({
      owner,
      now: yield* Clock.currentTimeMillis,
      leaseTtlMillis: deps.leaseTtlMillis,
      deploymentIds: judged.map(({ handle }) => handle.deploymentId)
    })
    const byId = new Map(held.map((lease) => [lease.deploymentId, lease]))
    for (const { epoch, handle } of judged) {
      if (running.get(handle.deploymentId) !== handle) continue // it ended meanwhile
      const lease = byId.get(handle.deploymentId)
      if (lease === undefined || (lease.epoch !== epoch && lease.epoch !== handle.fence.epoch)) {
        yield* interruptLocal(handle.deploymentId, "lease_lost")
      } else if (lease.stopRequested) {
        yield* interruptLocal(handle.deploymentId, "stop")
      }
    }
  })

  /** Forks the heartbeat, every `every`, and the listener of the store's stop notifications, when it has them. */
  const keep = (every: Duration.Duration) =>
    Effect.gen(function*() {
      yield* heartbeat.pipe(
        Effect.catch((error) => Effect.logWarning("lease heartbeat failed", error)),
        Effect.repeat(Schedule.spaced(every)),
        Effect.forkIn(scope)
      )
      if (store.stopRequests !== undefined) {
        yield* store.stopRequests.pipe(
          Stream.runForEach((deploymentId) => interruptLocal(deploymentId, "stop")),
          Effect.tapError((error) => Effect.logWarning("listening for stop requests failed; listening again", error)),
          Effect.retry(Schedule.spaced("1 second")),
          Effect.forkIn(scope)
        )
      }
    })

  return { interruptLocal, keep }
}
