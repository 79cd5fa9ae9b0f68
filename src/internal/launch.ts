/**
 * Launching a deployment in this process: its local handle (the fence of the lease it holds, the outcome awaiters
 * read), registered among the local runs while the run lasts, and its run on a fiber of the runtime's scope.
 *
 * @internal
 */
import { Cause, Clock, Context, Deferred, Duration, Effect, Exit, Option, type Scope } from "effect"
import type { Snapshot } from "../DeploymentStore.ts"
import type { Registration } from "./registration.ts"
import type { Handle, LaunchKind, Outcome, RunnerEnv } from "./run.ts"
import { stopWhilePausing } from "./transitionModels.ts"
import { runDeployment } from "./runner.ts"
import { retryTransient } from "./transient.ts"

/** What launching needs from the runtime. */
export interface LaunchEnv {
  readonly env: RunnerEnv
  readonly owner: string
  /** The local runs, by deployment id: a launch adds its handle, and the run removes it when it ends. */
  readonly running: Map<string, Handle>
  /** Where the runs' fibers live. */
  readonly scope: Scope.Scope
  /** Carries out the stop request a pause recorded over a stop flag (`carryRequests.ts`, `carryStop`). */
  readonly carryStop: (deploymentId: string, reason: string) => Effect.Effect<unknown, unknown>
  /**
   * How long a run's exit hook may take (the runtime's `shutdownTimeout`): the hook runs uninterruptibly, and the
   * release closes the runs one after the other, so a hook stuck in a store call would hold the others up.
   */
  readonly exitHookTimeout: Duration.Duration
}

/**
 * A stop asked while a failure was pausing the deployment found it still running and set its stop flag: the pause
 * committed all the same, and recorded a stop request with it (`DeploymentPatch.stopRequest`, `run.ts`). The stop is
 * carried out here once the run ended (the deployment rolls back, as the stop asked). When the runtime is being
 * released, its take-over is not written (it interrupts, `shutdown.ts`), and when this process dies first, nothing
 * here carries it out: either way the request waits for a live process that has the action.
 */
const stopIfAskedWhilePausing = (deps: LaunchEnv, handle: Handle, outcome: Outcome) => {
  if (outcome._tag !== "Paused" || !outcome.stopRequested) return undefined
  return deps.carryStop(handle.deploymentId, stopWhilePausing).pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.logInfo(`the stop of deployment ${handle.deploymentId} waits for a live process, as a request`)
        : Effect.failCause(cause)
    ),
    Effect.timeoutOption(deps.exitHookTimeout),
    Effect.flatMap((done) =>
      Option.isSome(done) ? Effect.void : Effect.logWarning(
        `stopping paused deployment ${handle.deploymentId} did not finish within ${
          Duration.format(deps.exitHookTimeout)
        }: its stop request waits for the next recovery pass of a process that has the action`
      )
    ),
    Effect.catch((error) => Effect.logWarning(`stopping paused deployment ${handle.deploymentId} failed`, error))
  )
}

/** The outcome a run published, if it did (its fiber may end interrupted after it did). */
const published = (handle: Handle): Outcome | undefined => {
  // Done means completed with an exit (`Deferred.succeed`, `doneUnsafe` with `Exit.succeed`). `Exit.isExit` forgets
  // the type parameter, which the Deferred fixes: `handle.outcome` holds `Outcome`s only.
  const done = handle.outcome.effect
  if (done === undefined || !Exit.isExit(done)) return undefined
  const exit = done as Exit.Exit<Outcome>
  return Exit.isSuccess(exit) ? exit.value : undefined
}

/**
 * Gives up the lease of a deployment whose run ended before it started: it was launched as the runtime was released
 * (its fiber forked into the closed scope of runs, or interrupted before its first step), so its lease was taken
 * (a create, a take-over or a claim that was under way as the release began) but nothing here runs it. Given up,
 * another process resumes it at once instead of after the lease lapses; a started run gives its lease up itself.
 * Observers run outside any fiber, so the release runs on a fiber of its own, with the services of the launch (an
 * ended fiber no longer holds its own).
 */
const releaseUnstarted = (deps: LaunchEnv, handle: Handle, context: Context.Context<never>) => {
  const at = Context.get(context, Clock.Clock).currentTimeMillisUnsafe()
  const release = retryTransient(deps.env.store.release(handle.fence, at)).pipe(
    Effect.andThen(Effect.logInfo(`released deployment ${handle.deploymentId}, launched as the runtime was released`)),
    Effect.catch((error) => Effect.logWarning(`giving up the lease of ${handle.deploymentId} failed`, error))
  )
  Effect.runForkWith(context)(release)
}

export type { LaunchKind } from "./run.ts"

/**
 * Builds the launch of a runtime: `launch(reg, snapshot, kind)` runs a deployment this process holds the lease of
 * and returns its handle.
 */
export const makeLaunch = (deps: LaunchEnv) => {
  const { env, owner, running, scope } = deps
  return (reg: Registration, snapshot: Snapshot, kind: LaunchKind): Effect.Effect<Handle> =>
    Effect.withFiber((parent) => {
      const context = parent.context
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
      // A run that ends as its fiber is interrupted (the runtime released while it wrote its last checkpoint) has
      // published its outcome, but its fiber ends interrupted all the same: the exit hook reads the outcome it
      // published. The hook runs uninterruptibly: Effect skips an interruptible one of an interrupted fiber.
      const run = Effect.onExitPrimitive(runDeployment(env, reg, snapshot, handle, kind), (exit) => {
        forget()
        const outcome = Exit.isSuccess(exit) ? exit.value : published(handle)
        return outcome === undefined ? undefined : stopIfAskedWhilePausing(deps, handle, outcome)
      })
      return Effect.map(Effect.forkIn(run, scope), (fiber) => {
        handle.fiber = fiber
        // A run that ends without publishing an outcome (its fiber interrupted before or as it started, when the
        // runtime shuts down) is let go: its lease is given up, and its awaiters are told it was abandoned, so that
        // they read the deployment instead of waiting on this run.
        fiber.addObserver((exit) => {
          if (Exit.isSuccess(exit)) return
          forget()
          if (published(handle) === undefined) releaseUnstarted(deps, handle, context)
          Deferred.doneUnsafe(handle.outcome, Exit.succeed({ _tag: "Abandoned", reason: "shutdown", error: undefined }))
        })
        return handle
      })
    })
}
