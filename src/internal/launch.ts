/**
 * Launching a deployment in this process: its local handle (the fence of the lease it holds, the outcome awaiters
 * read), registered among the local runs while the run lasts, and its run on a fiber of the runtime's scope.
 *
 * @internal
 */
import { Deferred, Effect, Exit, type Scope } from "effect"
import type { Snapshot } from "../DeploymentStore.ts"
import type { Registration } from "./registration.ts"
import type { Handle, LaunchKind, Outcome, RunnerEnv } from "./run.ts"
import { runDeployment } from "./runner.ts"

/** What launching needs from the runtime. */
export interface LaunchEnv {
  readonly env: RunnerEnv
  readonly owner: string
  /** The local runs, by deployment id: a launch adds its handle, and the run removes it when it ends. */
  readonly running: Map<string, Handle>
  /** Where the runs' fibers live. */
  readonly scope: Scope.Scope
  /** The operators' `stop` of a deployment, with the reason kept in its history. */
  readonly stop: (deploymentId: string, reason: string) => Effect.Effect<unknown, unknown>
}

/**
 * A stop asked while a failure was pausing the deployment found it still running and set its stop flag: the pause
 * committed all the same, so the stop is carried out once the run ended (the deployment rolls back, as the stop
 * asked).
 */
const stopIfAskedWhilePausing = (deps: LaunchEnv, handle: Handle, outcome: Outcome) => {
  if (outcome._tag !== "Paused" || !outcome.stopRequested) return undefined
  return deps.stop(handle.deploymentId, "a stop was asked while the failure paused the deployment").pipe(
    Effect.catch((error) => Effect.logWarning(`stopping paused deployment ${handle.deploymentId} failed`, error)),
    Effect.asVoid
  )
}

export type { LaunchKind } from "./run.ts"

/**
 * Builds the launch of a runtime: `launch(reg, snapshot, kind)` runs a deployment this process holds the lease of
 * and returns its handle.
 */
export const makeLaunch = (deps: LaunchEnv) => {
  const { env, owner, running, scope } = deps
  return (reg: Registration, snapshot: Snapshot, kind: LaunchKind): Effect.Effect<Handle> =>
    Effect.suspend(() => {
      const deployment = snapshot.deployment
      const handle: Handle = {
        deploymentId: deployment.id,
        registration: reg,
        outcome: Deferred.makeUnsafe<Outcome>(),
        fiber: undefined,
        interruptReason: undefined,
        fence: { deploymentId: deployment.id, owner, epoch: deployment.leaseEpoch },
        resumes: deployment.resumes
      }
      running.set(deployment.id, handle)
      /** Takes the run out of the local runs, unless a later run of the deployment replaced it there. */
      const forget = () => {
        if (running.get(deployment.id) === handle) running.delete(deployment.id)
      }
      const run = Effect.onExitPrimitive(runDeployment(env, reg, snapshot, handle, kind), (exit) => {
        forget()
        return Exit.isSuccess(exit) ? stopIfAskedWhilePausing(deps, handle, exit.value) : undefined
      }, true)
      return Effect.map(Effect.forkIn(run, scope), (fiber) => {
        handle.fiber = fiber
        // A run that ends without publishing an outcome (its fiber interrupted before or as it started, when the
        // runtime shuts down) is let go: its awaiters are told it was abandoned, so that they read the deployment
        // instead of waiting on this run.
        fiber.addObserver((exit) => {
          if (Exit.isSuccess(exit)) return
          forget()
          Deferred.doneUnsafe(handle.outcome, Exit.succeed({ _tag: "Abandoned", reason: "shutdown", error: undefined }))
        })
        return handle
      })
    })
}
