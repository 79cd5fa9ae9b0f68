/**
 * The runtime service: registers actions, executes them as persisted deployments, and manages those
 * deployments (await, get, list, errors, stop, resume, prune).
 *
 * **Details**
 *
 * `register` captures the services an action's jobs need from its caller, so a deployment started later, or
 * resumed in the background after a crash, runs with them. Registration is per `(application, action)` pair.
 *
 * `start` validates the input, creates the deployment (with its first job's input) in one write, and runs it on a
 * background fiber owned by this service; `execute` starts and waits. A deployment with a `key` is created once
 * per `(application, action, key)`: starting it again joins the running deployment or returns the finished
 * one's result.
 *
 * Each running deployment holds a lease in the store, renewed by a heartbeat. A background recovery loop claims
 * deployments whose lease expired (their process died) and resumes them: forward from the job that was running,
 * or backward through the rollbacks not yet done. See `docs/durability.md` and `docs/operations.md`.
 *
 * When the layer is released (the process shuts down), running deployments are not rolled back: their local runs
 * stop, their leases are released, and another process (or this one, restarted) resumes them.
 *
 * @since 0.1.0
 */
import { Context, type DateTime, Duration, Effect, Layer, type Option, type Schema, Scope } from "effect"
import type * as Action from "./Action.ts"
import type {
  ActionAlreadyRegistered,
  ActionNotFound,
  DeploymentFailed,
  DeploymentNotFound,
  DeploymentNotRunning,
  DuplicateJobName,
  EmptyJobSequence,
  InputValidationError,
  InvalidArgument,
  InvalidOption,
  PersistenceError,
  StateValidationError,
  StoredDataCorrupt
} from "./ActionError.ts"
import type { Deployment, DeploymentStatus, ErrorEntry } from "./Deployment.ts"
import { DeploymentStore, type Snapshot, type StatusCounts } from "./DeploymentStore.ts"
import * as DeploymentStoreModule from "./DeploymentStore.ts"
import { makeAwaiting } from "./internal/awaiting.ts"
import { makeCreate } from "./internal/creation.ts"
import { makeLaunch } from "./internal/launch.ts"
import { makeLeases } from "./internal/leases.ts"
import { makeOperations } from "./internal/operations.ts"
import { makeOperatorMethods } from "./internal/operatorMethods.ts"
import type {
  BulkOptions,
  BulkResult,
  OperationError,
  OperationOptions,
  OperationReceipt,
  RestartOptions,
  RetryOptions
} from "./internal/operatorModels.ts"
import { makePrune } from "./internal/pruning.ts"
import { makeReads } from "./internal/reads.ts"
import { makeRecovery } from "./internal/recovery.ts"
import type { Registration } from "./internal/registration.ts"
import { makeRegistry } from "./internal/registry.ts"
import type { Handle, RunnerEnv } from "./internal/run.ts"
import type { Options } from "./internal/runtimeOptions.ts"
import { closeWithin, whileOpen } from "./internal/shutdown.ts"
import { makeStarting } from "./internal/starting.ts"
import * as Validate from "./internal/validate.ts"

// The models of the operators' operations (src/internal/operatorModels.ts) and the runtime's options
// (src/internal/runtimeOptions.ts) are documented there, and exported from here, by name: what is public is
// said here, not by whatever those modules export.
export type {
  BulkFilter,
  BulkItem,
  BulkOptions,
  BulkResult,
  OperationError,
  OperationOptions,
  OperationReceipt,
  RestartOptions,
  RetryOptions
} from "./internal/operatorModels.ts"
export type { Options }

/**
 * Names an action by application and action name, for the untyped entry points.
 *
 * @since 0.1.0
 * @category models
 */
export interface ActionRef {
  readonly application: string
  readonly action: string
}

/**
 * Options of `start` and `execute`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StartOptions {
  /** The application the action was registered for; may be left out when it was registered for one only. */
  readonly application?: string
  /** The caller's key (the seed's GroupID): at most one deployment exists per `(application, action, key)`. */
  readonly key?: string
}

/**
 * What a succeeded deployment returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecuteResult<O> {
  readonly deploymentId: string
  /** The last job's output. */
  readonly output: O
}

/**
 * A filter and a page for `list`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  readonly statuses?: ReadonlyArray<DeploymentStatus>
  readonly application?: string
  readonly action?: string
  /**
   * Only deployments with this key.
   *
   * @since 0.3.0
   */
  readonly key?: string
  /**
   * Only deployments created before this time (exclusive).
   *
   * @since 0.3.0
   */
  readonly createdBefore?: DateTime.Utc
  /**
   * Only deployments created at or after this time (inclusive).
   *
   * @since 0.3.0
   */
  readonly createdAfter?: DateTime.Utc
  /** Page size, 1 to 1000; 50 by default. */
  readonly limit?: number
  /** The `next` cursor of the previous page. */
  readonly cursor?: string
}

/**
 * A page of deployments (without their job records; `get` reads those), newest first.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeploymentPage {
  readonly items: ReadonlyArray<Deployment>
  readonly next: Option.Option<string>
  /**
   * The rows of the page that do not decode, each reported with its id and what is wrong; the other rows are in
   * `items`. Empty unless stored data is corrupt.
   */
  readonly unreadable: ReadonlyArray<StoredDataCorrupt>
}

/**
 * What one recovery pass did.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResumeSummary {
  /** Ids of the deployments this pass claimed and resumed. */
  readonly resumed: ReadonlyArray<string>
  /**
   * Ids of the deployments whose pending operator request (asked by a process without the action) this pass carried
   * out.
   *
   * @since 0.3.0
   */
  readonly carried: ReadonlyArray<string>
}

/**
 * How many deployments are in each status, as `counts` reports them.
 *
 * @since 0.3.0
 * @category models
 */
export interface StatusCountsResult {
  readonly counts: StatusCounts
  /** Each count stops here: a count equal to it means "at least this many". */
  readonly atMost: number
}

/**
 * One job data entry of a deployment, in its stored (encoded JSON) form: the runtime does not know the schema a job
 * wrote it with.
 *
 * @since 0.3.0
 * @category models
 */
export interface JobDataEntry {
  readonly job: string
  readonly key: string
  readonly value: Schema.Json
}

/**
 * Failures of starting a deployment.
 *
 * @since 0.1.0
 * @category models
 */
export type StartError = InputValidationError | ActionNotFound | PersistenceError | InvalidArgument

/**
 * Failures of waiting for a deployment.
 *
 * @since 0.1.0
 * @category models
 */
export type AwaitError = DeploymentFailed | DeploymentNotFound | PersistenceError | StoredDataCorrupt | InvalidArgument

/**
 * The runtime service.
 *
 * @since 0.1.0
 * @category models
 */
export interface ActionsShape {
  /** This process's identity as a lease owner. */
  readonly owner: string
  /**
   * Registers an action for an application (`"default"` when left out). The application, action and job names
   * must be valid names (`InvalidArgument`, see `docs/limits.md`), and the state's `initial` value must fit its
   * schema (`StateValidationError`).
   */
  readonly register: <A extends Action.Any>(
    action: A,
    options?: { readonly application?: string }
  ) => Effect.Effect<
    void,
    ActionAlreadyRegistered | EmptyJobSequence | DuplicateJobName | InvalidArgument | StateValidationError,
    Action.Services<A>
  >
  /** Starts a deployment and waits for its outcome. */
  readonly execute: <A extends Action.Any>(
    action: A,
    input: Action.Input<A>,
    options?: StartOptions
  ) => Effect.Effect<ExecuteResult<Action.Output<A>>, StartError | AwaitError>
  /** Starts a deployment in the background; returns its id. */
  readonly start: <A extends Action.Any>(
    action: A,
    input: Action.Input<A>,
    options?: StartOptions
  ) => Effect.Effect<string, StartError>
  /** Waits for a deployment of `action` to finish; fails with `DeploymentFailed` when it rolled back. */
  readonly await: <A extends Action.Any>(
    action: A,
    deploymentId: string
  ) => Effect.Effect<ExecuteResult<Action.Output<A>>, AwaitError | ActionNotFound>
  /** Untyped `execute`, by names: `input` is decoded with the first job's input schema. */
  readonly executeByName: (
    ref: ActionRef,
    input: unknown,
    options?: { readonly key?: string }
  ) => Effect.Effect<ExecuteResult<unknown>, StartError | AwaitError>
  /** Untyped `start`, by names: `input` is decoded with the first job's input schema. */
  readonly startByName: (
    ref: ActionRef,
    input: unknown,
    options?: { readonly key?: string }
  ) => Effect.Effect<string, StartError>
  /** Untyped `await`, by deployment id. */
  readonly awaitById: (deploymentId: string) => Effect.Effect<ExecuteResult<unknown>, AwaitError>
  /** Reads a deployment with its job records. */
  readonly get: (
    deploymentId: string
  ) => Effect.Effect<Deployment, DeploymentNotFound | PersistenceError | StoredDataCorrupt | InvalidArgument>
  /**
   * Lists deployments, newest first; a row that does not decode is reported in `unreadable`, not failed on. An
   * invalid filter or page size is an `InvalidArgument`, never clamped.
   */
  readonly list: (options?: ListOptions) => Effect.Effect<DeploymentPage, PersistenceError | InvalidArgument>
  /**
   * Counts the deployments in each status, of an application and an action when given; each count stops at 10,000
   * (`atMost`), so that counting stays cheap however many deployments there are.
   */
  readonly counts: (
    filter?: { readonly application?: string; readonly action?: string }
  ) => Effect.Effect<StatusCountsResult, PersistenceError | InvalidArgument>
  /** Reads every job data entry of a deployment (`JobContext.setData`), by job then key. */
  readonly jobData: (
    deploymentId: string
  ) => Effect.Effect<ReadonlyArray<JobDataEntry>, DeploymentNotFound | PersistenceError | InvalidArgument>
  /** Reads a deployment's error log, or one job's part of it. */
  readonly errors: (
    deploymentId: string,
    options?: { readonly job?: string }
  ) => Effect.Effect<
    ReadonlyArray<ErrorEntry>,
    DeploymentNotFound | PersistenceError | StoredDataCorrupt | InvalidArgument
  >
  /**
   * Stops a running deployment, wherever it runs: its jobs roll back with `ExecutionStopped`. A paused deployment
   * is rolled back with `ExecutionStopped` too (by a process that has the action). A finished one is refused with
   * `DeploymentNotRunning`; a parked one (its stored data does not decode) with `StoredDataCorrupt`: it cannot be
   * rolled back until repaired.
   */
  readonly stop: (
    deploymentId: string,
    options?: OperationOptions
  ) => Effect.Effect<OperationReceipt, OperationError | DeploymentNotRunning>
  /**
   * Runs the failed job of a `paused` deployment again (its attempt count goes up), optionally with a replacement
   * input, then goes on forward.
   */
  readonly retry: (
    deploymentId: string,
    options?: RetryOptions
  ) => Effect.Effect<OperationReceipt, OperationError | InputValidationError>
  /**
   * Rolls a `paused` deployment back as if its job had failed now: the failed job's rollback runs (with `None`),
   * then the completed jobs', in reverse order.
   */
  readonly rollback: (
    deploymentId: string,
    options?: OperationOptions
  ) => Effect.Effect<OperationReceipt, OperationError>
  /**
   * Runs the failed rollbacks of a `rollback_failed` deployment again, in reverse order; a rollback recorded as done
   * never runs again. It ends `rolled_back`, or `rollback_failed` again.
   */
  readonly retryRollback: (
    deploymentId: string,
    options?: OperationOptions
  ) => Effect.Effect<OperationReceipt, OperationError>
  /**
   * Starts a new deployment of a finished deployment's action with the same first input, linked to it
   * (`restartOf`); the receipt names the new deployment.
   */
  readonly restart: (
    deploymentId: string,
    options?: RestartOptions
  ) => Effect.Effect<OperationReceipt, OperationError | InputValidationError>
  /**
   * Applies `stop`, `retry`, `rollback` or `retryRollback` to every deployment that matches a filter, in batches of
   * 100; `dryRun` only counts and lists them. A deployment the operation does not apply to is reported `refused` in
   * its item, not failed on. A store failure stops it with `PersistenceError`: what was done stays done (each
   * deployment's history shows it) and no longer matches, so running it again does the rest.
   */
  readonly bulk: (options: BulkOptions) => Effect.Effect<BulkResult, PersistenceError | InvalidArgument>
  /** One recovery pass: claims deployments whose lease expired and resumes them. */
  readonly resume: () => Effect.Effect<ResumeSummary, PersistenceError>
  /**
   * Deletes finished deployments last updated longer than `olderThan` ago; returns how many. `olderThan` must be a
   * finite duration of at least zero: anything else is an `InvalidArgument`, and nothing is deleted.
   */
  readonly prune: (
    options: { readonly olderThan: Duration.Input }
  ) => Effect.Effect<number, PersistenceError | InvalidArgument>
}

/**
 * The runtime service.
 *
 * @since 0.1.0
 * @category services
 */
export class Actions extends Context.Service<Actions, ActionsShape>()("effect-actions/Actions") {}

/**
 * Builds the runtime service. Its background fibers (deployments, heartbeat, recovery) live in the current scope.
 *
 * **Gotchas**
 *
 * Fails with `InvalidOption` when an option is out of its range (see `Options`), before anything starts.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<ActionsShape, InvalidOption, DeploymentStore | Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* Validate.resolveOptions(options)
    const store = yield* DeploymentStore
    const layerScope = yield* Effect.scope
    // Deployments run in a scope of their own, closed last and with a bound when the layer is released: a run
    // stuck in a write (a database that does not answer) cannot hold the release up for longer than
    // `shutdownTimeout`.
    const scope = yield* Scope.make()
    yield* Scope.addFinalizer(layerScope, closeWithin(scope, settings.shutdownTimeout))
    // Once released, a start, an operator's take-over or a recovery pass interrupts its caller and writes nothing.
    const open = whileOpen(scope)
    const { owner, recovery: recoverySettings } = settings
    const leaseTtlMillis = Duration.toMillis(recoverySettings.leaseTtl)

    const registry = makeRegistry()
    const running = new Map<string, Handle>()
    const leases = makeLeases({ store, owner, leaseTtlMillis, running, scope })
    const { interruptLocal } = leases
    const env: RunnerEnv = { store, maxResumes: recoverySettings.maxResumes }

    const launch = makeLaunch({
      env,
      owner,
      running,
      scope,
      carryStop: (deploymentId, reason) => operations.carryStop(deploymentId, reason),
      exitHookTimeout: settings.shutdownTimeout
    })
    // A created deployment counts as started; one an operator's operation took over is the same deployment going on.
    const launchCreated = (reg: Registration, snapshot: Snapshot) => Effect.asVoid(launch(reg, snapshot, "created"))
    const launchTakenOver = (reg: Registration, snapshot: Snapshot) =>
      Effect.asVoid(launch(reg, snapshot, "takenOver"))
    const isRunning = (deploymentId: string) => running.has(deploymentId)
    const creation = makeCreate({ env, owner, leaseTtlMillis, scope, launch: launchCreated, isRunning })
    const { create } = creation
    // Before anything is forked into the scope of runs: its finalizers run last to first, so this one runs once the
    // discards in it were interrupted.
    yield* Scope.addFinalizer(scope, creation.discardPending)
    const awaiting = makeAwaiting({ env, running, registry, pollInterval: settings.awaitPollInterval })

    const operations = makeOperations({
      env,
      owner,
      leaseTtlMillis,
      registrationOf: registry.registrationOf,
      registrationFor: registry.registrationFor,
      runnable: registry.runnable,
      launch: launchTakenOver,
      isRunning,
      whileOpen: open,
      interruptLocal: (deploymentId) => interruptLocal(deploymentId, "stop"),
      createRestart: (reg, input, key, id, restartOf) => create(reg, input, key, { id, restartOf })
    })

    const recovery = makeRecovery({
      store,
      owner,
      leaseTtlMillis,
      batch: recoverySettings.batch,
      maxInFlight: recoverySettings.maxInFlight,
      registry,
      running,
      launch,
      interruptLocal,
      carryRequests: operations.carryRequests,
      whileOpen: open
    })
    yield* leases.keep(recoverySettings.heartbeat)
    if (recoverySettings.enabled) yield* recovery.loop(recoverySettings.pollInterval, scope)

    // Every public operation checks its arguments first (`internal/validate.ts`): a bad one is an
    // `InvalidArgument`, and nothing is done.
    return Actions.of({
      owner,
      register: registry.register,
      ...makeStarting({ registry, create, awaitById: awaiting.awaitById }),
      ...awaiting.methods,
      ...makeReads(env),
      ...makeOperatorMethods(operations),
      resume: Effect.fn("Actions.resume")(recovery.resume),
      prune: makePrune(env)
    })
  })

/**
 * The runtime as a layer; it needs a `DeploymentStore`. Building it fails with `InvalidOption` when an option is out
 * of its range.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<Actions, InvalidOption, DeploymentStore> =>
  Layer.effect(Actions, make(options))

/**
 * The runtime on the in-memory store: deployments live as long as the layer. For tests, examples and
 * single-process programs whose deployments need not survive the process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options?: Options): Layer.Layer<Actions, InvalidOption> =>
  layer(options).pipe(Layer.provide(DeploymentStoreModule.layerMemory))
