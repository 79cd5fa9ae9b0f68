/**
 * Waiting for a deployment to finish: on its local run when it runs in this process, else by reading its status
 * (not its values) from the store until it is terminal or parked, then its result once.
 *
 * @internal
 */
import { Deferred, type Duration, Effect, Option } from "effect"
import { type DeploymentFailed, DeploymentNotFound, type PersistenceError, StoredDataCorrupt } from "../ActionError.ts"
import { isTerminal } from "../Deployment.ts"
import type { ParkedRow, Snapshot } from "../DeploymentStore.ts"
import type { Handle, RunnerEnv } from "./run.ts"

/** The error every `await` of a parked deployment fails with. */
export const parkedError = (deploymentId: string, parked: ParkedRow): StoredDataCorrupt =>
  new StoredDataCorrupt({
    deploymentId,
    ...(parked.job === undefined ? {} : { job: parked.job }),
    field: parked.field,
    issue: parked.issue
  })

/** What a finished deployment returns. */
export interface AwaitResult {
  readonly deploymentId: string
  readonly output: unknown
}

/** What waiting needs from the runtime. */
export interface AwaitEnv {
  readonly env: RunnerEnv
  readonly running: ReadonlyMap<string, Handle>
  readonly pollInterval: Duration.Duration
  /** The result of a terminal deployment, read from the store. */
  readonly result: (
    snapshot: Snapshot
  ) => Effect.Effect<AwaitResult, DeploymentFailed | StoredDataCorrupt | PersistenceError>
}

/** Builds `awaitById`: the result of a deployment once it is terminal, wherever it runs. */
export const makeAwait = (deps: AwaitEnv) => {
  const { env } = deps
  const read = <B>(deploymentId: string, effect: Effect.Effect<Option.Option<B>, PersistenceError>) =>
    Effect.flatMap(env.retryTransient(effect), (found) =>
      Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new DeploymentNotFound({ deploymentId })))

  const awaitById = (
    deploymentId: string
  ): Effect.Effect<AwaitResult, DeploymentFailed | DeploymentNotFound | StoredDataCorrupt | PersistenceError> =>
    Effect.gen(function*() {
      let abandoned: Handle | undefined
      while (true) {
        const handle = deps.running.get(deploymentId)
        if (handle !== undefined && handle !== abandoned) {
          const outcome = yield* Deferred.await(handle.outcome)
          if (outcome._tag === "Succeeded") return { deploymentId, output: outcome.output }
          if (outcome._tag === "Failed") return yield* Effect.fail(outcome.error)
          if (outcome._tag === "Abandoned" && outcome.error instanceof StoredDataCorrupt) {
            return yield* Effect.fail(outcome.error)
          }
          // Abandoned: the deployment goes on elsewhere, or here after a later claim (under a new handle). Paused:
          // it goes on once an operator retries it or rolls it back, under a new handle too.
          abandoned = handle
        }
        const status = yield* read(deploymentId, env.store.status(deploymentId))
        if (status.parked !== undefined) return yield* Effect.fail(parkedError(deploymentId, status.parked))
        if (isTerminal(status.status)) return yield* deps.result(yield* read(deploymentId, env.store.get(deploymentId)))
        const local = deps.running.get(deploymentId)
        if (local === undefined || local === abandoned) yield* Effect.sleep(deps.pollInterval)
      }
    })
  return awaitById
}
