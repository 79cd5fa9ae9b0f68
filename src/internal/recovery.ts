/**
 * Recovery: a pass claims the deployments whose lease expired (their process died) and resumes them here, reports
 * the deployments of a registered action that another definition started (once per process), and carries out the
 * operators' requests this process can; the background loop runs passes back to back while they come back full (a
 * backlog), else every poll interval.
 *
 * @internal
 */
import { Clock, type Duration, Effect, type Scope } from "effect"
import { ActionVersionMismatch, type PersistenceError } from "../ActionError.ts"
import type { ResumeSummary } from "../Actions.ts"
import type { DeploymentStoreShape, Snapshot } from "../DeploymentStore.ts"
import { recordClaims, recordResume } from "./metrics.ts"
import type { LaunchKind } from "./launch.ts"
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
}

/** Builds the recovery of a runtime. */
export const makeRecovery = (deps: RecoveryEnv) => {
  const { batch, owner, registry, running, store } = deps

  /** Deployments started by another definition of a registered action, reported once per process. */
  const reportedMismatches = new Set<string>()
  const reportMismatches = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const mismatched = yield* store.findMismatched({ now, limit: batch, runnable: registry.runnable() })
    for (const row of mismatched) {
      if (reportedMismatches.has(row.id)) continue
      reportedMismatches.add(row.id)
      const reg = registry.registrationFor(row.application, row.action)
      if (reg === undefined) continue
      const error = new ActionVersionMismatch({
        deploymentId: row.id,
        action: row.action,
        stored: row.fingerprint,
        registered: reg.action.fingerprint
      })
      yield* Effect.logWarning(error.message)
      yield* store.appendErrorOnce(row.id, {
        job: undefined,
        phase: "resume",
        tag: error._tag,
        message: error.message,
        detail: { stored: error.stored, registered: error.registered },
        at: now
      })
    }
  })

  /** One recovery pass. */
  const resume = (): Effect.Effect<ResumeSummary, PersistenceError> =>
    Effect.gen(function*() {
      const limit = Math.min(batch, deps.maxInFlight - running.size)
      if (registry.size === 0 || limit <= 0) return { resumed: [], carried: [] }
      const now = yield* Clock.currentTimeMillis
      const claimed = yield* store.claim({
        owner,
        now,
        leaseTtlMillis: deps.leaseTtlMillis,
        limit,
        runnable: registry.runnable()
      })
      yield* recordClaims(claimed)
      const resumed: Array<string> = []
      for (const snapshot of claimed) {
        const { deployment } = snapshot
        const local = running.get(deployment.id)
        if (local !== undefined) {
          if (deployment.leaseEpoch === local.fence.epoch + 1) {
            // This process still runs it and nobody else held it meanwhile (its own heartbeat came late): the
            // local run goes on under the new epoch.
            local.fence = { ...local.fence, epoch: deployment.leaseEpoch }
            local.resumes = deployment.resumes
          } else {
            // Another process advanced it meanwhile: the local run is stale. It stops, and the lease is given
            // back, so that a later pass resumes the deployment from what is stored, once the stale run is gone.
            yield* deps.interruptLocal(deployment.id, "lease_lost")
            yield* Effect.ignore(store.release({ deploymentId: deployment.id, owner, epoch: deployment.leaseEpoch }, now))
          }
          continue
        }
        const reg = registry.registrationFor(deployment.application, deployment.action)
        if (reg === undefined) continue
        yield* deps.launch(reg, snapshot, "resumed")
        yield* recordResume(reg)
        resumed.push(snapshot.deployment.id)
      }
      if (resumed.length > 0) yield* Effect.logInfo(`resumed ${resumed.length} deployment(s)`)
      // Once the backlog is drained, not after every pass of it: another query would slow the draining down.
      if (claimed.length < limit) yield* reportMismatches
      const carried = claimed.length < limit
        ? yield* deps.carryRequests(Math.min(batch, deps.maxInFlight - running.size))
        : []
      return { resumed, carried }
    })

  /** Forks the recovery loop: passes back to back while they come back full, else every `pollInterval`. */
  const loop = (pollInterval: Duration.Duration, scope: Scope.Scope) => {
    const pass = resume().pipe(
      Effect.map(({ resumed }) => resumed.length >= batch),
      Effect.catch((error) => Effect.as(Effect.logWarning("recovery pass failed", error), false))
    )
    return Effect.forkIn(
      Effect.forever(Effect.flatMap(pass, (full) => full ? Effect.yieldNow : Effect.sleep(pollInterval))),
      scope
    )
  }

  return { resume, loop }
}
