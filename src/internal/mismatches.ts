/**
 * Version mismatch reports: the deployments of a registered action that another definition of it started (their
 * stored fingerprint differs), which this process cannot resume. Each is reported once per process, in the log and
 * in the deployment's error log (once per deployment, whichever process reports it).
 *
 * @internal
 */
import { Clock, Effect } from "effect"
import { ActionVersionMismatch, type PersistenceError } from "../ActionError.ts"
import type { DeploymentStoreShape } from "../DeploymentStore.ts"
import type { Registry } from "./registry.ts"

/** What the reports need from the runtime. */
export interface MismatchReportsEnv {
  readonly store: DeploymentStoreShape
  /** How many mismatched deployments one report reads at most. */
  readonly batch: number
  readonly registry: Registry
}

/** Builds the report: an effect that finds mismatched deployments and reports those not reported yet. */
export const makeMismatchReports = (deps: MismatchReportsEnv): Effect.Effect<void, PersistenceError> => {
  const { batch, registry, store } = deps
  const reportedMismatches = new Set<string>()
  return Effect.gen(function*() {
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
}
