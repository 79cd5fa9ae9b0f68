/**
 * Recovery: a pass claims the deployments whose lease expired (their process died) and resumes them here, reports
 * the deployments of a registered action that another definition started (once per process), and carries out the
 * operators' requests this process can; the background loop runs passes back to back while they come back full (a
 * backlog), else every poll interval.
 *
 * @internal
 */
import { Clock, Duration, Effect, type Scope } from "effect"
import type { PersistenceError } from "../ActionError.ts"
import type { ResumeSummary } from "../Actions.ts"
import type { DeploymentStoreShape, Snapshot } from "../DeploymentStore.ts"
import { recordClaims, recordResume } from "./metrics.ts"
import type { LaunchKind } from "./launch.ts"
import { makeMismatchReports } from "./mismatches.ts"
import type { Registration } from "./registration.ts"
import type { Registry } from "./registry.ts"
import type { Handle } from "./run.ts"

/** What recovery needs from the runtime. */
export interface RecoveryEnv {
  readonly store: DeploymentStoreShape
  readonly owner: string
  readonly leaseTtlMillis: number
  /** How many deployments a pass claims at most. */
  readonly batch: number
  /** How many deployments this process runs at once at most. */
  readonly maxInFlight: number
  readonly registry: Registry
  readonly running: ReadonlyMap<string, Handle>
  readonly launch: (reg: Registration, snapshot: Snapshot, kind: LaunchKind) => Effect.Effect<Handle>
  readonly interruptLocal: (deploymentId: string, reason: "stop" | "lease_lost") => Effect.Effect<void>
  /** Carries out pending operator requests, at most `limit`; returns the ids of the deployments it did. */
  readonly carryRequests: (limit: number) => Effect.Effect<ReadonlyArray<string>, PersistenceError>
  /** Runs a pass only while the runtime is not released (`shutdown.ts`, `whileOpen`). */
  readonly whileOpen: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** How long the recovery loop waits for room when `maxInFlight` deployments run in this process. */
const roomWait = Duration.millis(50)

/** What a recovery pass found (see `pass`). */
type Found = "more" | "full" | "drained"

/**
 * A claimed deployment this process still runs (its own heartbeat came late): if nobody else held it meanwhile,
 * the local run goes on under the new epoch. Otherwise another process advanced it, and the local run is stale:
 * it stops, and the lease is given back, so that a later pass resumes the deployment from what is stored, once
 * the stale run is gone.
 */
const reclaimLocal = (deps: RecoveryEnv, local: Handle, snapshot: Snapshot, now: number) => {
  const { deployment } = snapshot
  const { owner, store } = deps
  if (deployment.leaseEpoch === local.fence.epoch + 1) {
    local.fence = { ...local.fence, epoch: deployment.leaseEpoch }
    local.resumes = deployment.resumes
    return Effect.void
  }
  return Effect.andThen(
    deps.interruptLocal(deployment.id, "lease_lost"),
    Effect.ignore(store.release({ deploymentId: deployment.id, owner, epoch: deployment.leaseEpoch }, now))
  )
}

/** Resumes the claimed deployments here (or lets a local run go on); returns the ids of those it launched. */
const resumeClaimed = (deps: RecoveryEnv, claimed: ReadonlyArray<Snapshot>, now: number) =>
  Effect.gen(function*() {
    const { registry, running } = deps
    const resumed: Array<string> = []
    for (const snapshot of claimed) {
      const { deployment } = snapshot
      const local = running.get(deployment.id)
      if (local !== undefined) {
        yield* reclaimLocal(deps, local, snapshot, now)
        continue
      }
      const reg = registry.registrationFor(deployment.application, deployment.action)
      if (reg === undefined) continue
      yield* deps.launch(reg, snapshot, "resumed")
      yield* recordResume(reg)
      resumed.push(deployment.id)
    }
    return resumed
  })

/** Builds the recovery of a runtime. */
export const makeRecovery = (deps: RecoveryEnv) => {
  const { batch, owner, registry, running, store } = deps

  const reportMismatches = makeMismatchReports(deps)

  /**
   * One recovery pass, and what it found, for the loop: `more` (it claimed a whole batch: more may be waiting),
   * `full` (it claimed all that fit under `maxInFlight`, less than a batch, or nothing fit) or `drained` (it
   * claimed fewer than it asked for, or nothing is registered).
   */
  const pass = (): Effect.Effect<{ readonly summary: ResumeSummary; readonly found: Found }, PersistenceError> =>
    Effect.gen(function*() {
      const nothing = { resumed: [], carried: [] }
      const limit = Math.min(batch, deps.maxInFlight - running.size)
      if (registry.size === 0) return { summary: nothing, found: "drained" as const }
      if (limit <= 0) return { summary: nothing, found: "full" as const }
      const now = yield* Clock.currentTimeMillis
      const claimed = yield* store.claim({
        owner,
        now,
        leaseTtlMillis: deps.leaseTtlMillis,
        limit,
        runnable: registry.runnable()
      })
      yield* recordClaims(claimed)
      const resumed = yield* resumeClaimed(deps, claimed, now)
      if (resumed.length > 0) yield* Effect.logInfo(`resumed ${resumed.length} deployment(s)`)
      // Once the backlog is drained, not after every pass of it: another query would slow the draining down.
      if (claimed.length < limit) yield* reportMismatches
      const carried = claimed.length < limit
        ? yield* deps.carryRequests(Math.min(batch, deps.maxInFlight - running.size))
        : []
      // All it asked for: more may be waiting; when the limit in flight cut the ask, room comes as runs end.
      const found: Found = claimed.length < limit ? "drained" : limit < batch ? "full" : "more"
      return { summary: { resumed, carried }, found }
    })

  /** One recovery pass: claims deployments whose lease expired and resumes them. */
  const resume = (): Effect.Effect<ResumeSummary, PersistenceError> =>
    Effect.map(deps.whileOpen(pass()), ({ summary }) => summary)

  /**
   * Forks the recovery loop. Passes run back to back while each claims a whole batch. A pass that claimed all that
   * fit under `maxInFlight` (less than a batch, or nothing) is followed by another after a short while (`roomWait`,
   * at most `pollInterval`), since runs end all the time while a backlog drains, and a pass right away would claim
   * only the few that ended meanwhile. Otherwise (drained, or a failed pass) the next waits `pollInterval`.
   */
  const loop = (pollInterval: Duration.Duration, scope: Scope.Scope) => {
    const waitForRoom = Effect.sleep(Duration.min(pollInterval, roomWait))
    const next = pass().pipe(
      Effect.map(({ found }) => found),
      Effect.catch((error) => Effect.as(Effect.logWarning("recovery pass failed", error), "drained" as const)),
      Effect.flatMap((found) =>
        found === "more" ? Effect.yieldNow : found === "full" ? waitForRoom : Effect.sleep(pollInterval)
      )
    )
    return Effect.forkIn(Effect.forever(next), scope)
  }

  return { resume, loop }
}
