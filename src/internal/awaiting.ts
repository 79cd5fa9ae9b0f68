/**
 * Waiting for a deployment to finish: on its local run when it runs in this process, else by reading its status
 * (not its values) from the store until it is terminal or parked, then its result once. The typed `await` also
 * checks that the deployment belongs to the action its result is typed by.
 *
 * @internal
 */
import { Deferred, type Duration, Effect, Option } from "effect"
import type * as Action from "../Action.ts"
import {
  ActionNotFound,
  type DeploymentFailed,
  DeploymentNotFound,
  type PersistenceError,
  StoredDataCorrupt
} from "../ActionError.ts"
import type { ActionsShape, AwaitError, ExecuteResult } from "../Actions.ts"
import { isTerminal } from "../Deployment.ts"
import type { ParkedRow, Snapshot } from "../DeploymentStore.ts"
import { storedFailure, storedOutput } from "./outcomes.ts"
import { readSnapshot } from "./reads.ts"
import type { Registry } from "./registry.ts"
import type { Handle, RunnerEnv } from "./run.ts"
import * as Validate from "./validate.ts"
import { retryTransient } from "./transient.ts"

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
    Effect.flatMap(retryTransient(effect), (found) =>
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

/** What the runtime's `await` and `awaitById` need from it. */
export interface AwaitingEnv {
  readonly env: RunnerEnv
  readonly running: ReadonlyMap<string, Handle>
  readonly registry: Registry
  /** How often a deployment that runs in another process is read. */
  readonly pollInterval: Duration.Duration
}

/** A deployment of another action than the one asked for: its result is not typed by `action`. */
const notOfAction = (action: Action.Any, deploymentId: string, application: string, actionName: string) =>
  new ActionNotFound({
    application,
    action: action.name,
    detail: `deployment ${deploymentId} belongs to action "${actionName}" of application "${application}"`
  })

/**
 * Builds the runtime's waiting: `awaitById` for the other entry points (its id checked already), and the public
 * `await` and `awaitById`, which check their arguments first (`validate.ts`).
 */
export const makeAwaiting = (deps: AwaitingEnv) => {
  const { env, registry, running } = deps
  const read = readSnapshot(env)

  const resultFromStore = (snapshot: Snapshot) =>
    Effect.gen(function*() {
      const { deployment } = snapshot
      const reg = registry.registrationFor(deployment.application, deployment.action)
      if (deployment.status === "succeeded") {
        return { deploymentId: deployment.id, output: yield* storedOutput(snapshot, reg) }
      }
      return yield* Effect.flatMap(storedFailure(env.store, snapshot, reg), Effect.fail)
    })

  /** Waits for a deployment: on its local run when it runs here, else by reading its status until it ends. */
  const awaitById: (deploymentId: string) => Effect.Effect<ExecuteResult<unknown>, AwaitError> = makeAwait({
    env,
    running,
    pollInterval: deps.pollInterval,
    result: resultFromStore
  })

  const awaitTyped = <A extends Action.Any>(action: A, deploymentId: string) =>
    Effect.gen(function*() {
      const handle = running.get(deploymentId)
      if (handle !== undefined && handle.registration.action !== action) {
        const { application, action: other } = handle.registration
        return yield* notOfAction(action, deploymentId, application, other.name)
      }
      if (handle === undefined) {
        const snapshot = yield* read(deploymentId)
        const { deployment } = snapshot
        if (deployment.action !== action.name || !registry.isRegistered(action, deployment.application)) {
          return yield* notOfAction(action, deploymentId, deployment.application, deployment.action)
        }
      }
      return (yield* awaitById(deploymentId)) as ExecuteResult<Action.Output<A>>
    })

  const methods: Pick<ActionsShape, "await" | "awaitById"> = {
    await: Effect.fn("Actions.await")(function*<A extends Action.Any>(action: A, deploymentId: string) {
      yield* Validate.actionArgument("await", action)
      return yield* awaitTyped(action, yield* Validate.deploymentIdArgument("await", deploymentId))
    }),
    awaitById: Effect.fn("Actions.awaitById")(function*(deploymentId: string) {
      return yield* awaitById(yield* Validate.deploymentIdArgument("awaitById", deploymentId))
    })
  }
  return { awaitById, methods }
}
