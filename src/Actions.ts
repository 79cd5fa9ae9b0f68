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
import { Clock, Context, type DateTime, Deferred, Duration, Effect, Layer, Option, Schedule, type Schema, Scope } from "effect"
import type * as Action from "./Action.ts"
import {
  type ActionAlreadyRegistered,
  ActionNotFound,
  type DeploymentFailed,
  DeploymentNotFound,
  DeploymentNotRunning,
  type DuplicateJobName,
  type EmptyJobSequence,
  InputValidationError,
  type InvalidArgument,
  type OperationRefused,
  type InvalidOption,
  PersistenceError,
  type StateValidationError,
  StoredDataCorrupt
} from "./ActionError.ts"
import type { Deployment, DeploymentStatus, ErrorEntry, Operation } from "./Deployment.ts"
import { DeploymentStore, type Snapshot, type StatusCounts } from "./DeploymentStore.ts"
import * as DeploymentStoreModule from "./DeploymentStore.ts"
import { describeSchemaError } from "./internal/codec.ts"
import { storedFailure, storedOutput, toDeployment, toDeploymentWithoutJobs, toErrorEntries } from "./internal/outcomes.ts"
import { makeAwait } from "./internal/awaiting.ts"
import { makeOperations } from "./internal/operations.ts"
import { bulkArguments, operationArguments } from "./internal/validateOperations.ts"
import { makeCreate } from "./internal/creation.ts"
import { makeLeases } from "./internal/leases.ts"
import { trackRun } from "./internal/metrics.ts"
import { makeRecovery } from "./internal/recovery.ts"
import type { Registration } from "./internal/registration.ts"
import { makeRegistry } from "./internal/registry.ts"
import { closeWithin } from "./internal/shutdown.ts"
import { type Handle, type Outcome, runDeployment, type RunnerEnv } from "./internal/runner.ts"
import * as Validate from "./internal/validate.ts"

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
 * What every operator operation takes.
 *
 * @since 0.3.0
 * @category models
 */
export interface OperationOptions {
  /** Why the operator acts; kept in the deployment's history (at most 4,096 characters). */
  readonly reason?: string
}

/**
 * Options of `retry`.
 *
 * @since 0.3.0
 * @category models
 */
export interface RetryOptions extends OperationOptions {
  /**
   * A replacement input for the failed job, in its encoded (JSON) form, as `startByName` takes one: decoded by the
   * job's input schema (an `InputValidationError` when it does not fit, and nothing changes), stored in the job's
   * record, and the input it replaces kept in the history.
   */
  readonly input?: unknown
}

/**
 * Options of `restart`.
 *
 * @since 0.3.0
 * @category models
 */
export interface RestartOptions extends OperationOptions {
  /** The new deployment's key; none by default (the original's key names the original). */
  readonly key?: string
}

/**
 * What an operator operation did.
 *
 * **Details**
 *
 * `outcome` is `"done"` when this process carried the operation out (the deployment runs here now, or its owner
 * was told to stop), `"requested"` when this process lacks the action's code (the CLI, for one): the request is
 * kept on the deployment, and a live process that has the action carries it out at its next recovery pass (see
 * `docs/operations.md`); the deployment's `request` and `history` tell when it has.
 *
 * @since 0.3.0
 * @category models
 */
export interface OperationReceipt {
  readonly deploymentId: string
  readonly operation: Operation
  readonly outcome: "done" | "requested"
  /** `restart`: the id of the new deployment (known before it is created, when requested). */
  readonly restartedAs: Option.Option<string>
}

/**
 * Failures every operator operation may end with.
 *
 * @since 0.3.0
 * @category models
 */
export type OperationError =
  | DeploymentNotFound
  | OperationRefused
  | StoredDataCorrupt
  | PersistenceError
  | InvalidArgument

/**
 * The deployments a bulk operation applies to. An absent field does not filter.
 *
 * @since 0.3.0
 * @category models
 */
export interface BulkFilter {
  /** By default the statuses the operation applies to (`stop`: running and paused; `retry`, `rollback`: paused; `retryRollback`: rollback_failed). */
  readonly statuses?: ReadonlyArray<DeploymentStatus>
  readonly application?: string
  readonly action?: string
  /** Created before this time (exclusive). */
  readonly createdBefore?: DateTime.Utc
  /** Created at or after this time (inclusive). */
  readonly createdAfter?: DateTime.Utc
}

/**
 * Options of `bulk`.
 *
 * @since 0.3.0
 * @category models
 */
export interface BulkOptions extends OperationOptions {
  readonly operation: Exclude<Operation, "restart">
  readonly filter?: BulkFilter
  /** Only count and list the deployments the operation would apply to. */
  readonly dryRun?: boolean
}

/**
 * What a bulk operation did to one deployment.
 *
 * @since 0.3.0
 * @category models
 */
export interface BulkItem {
  readonly deploymentId: string
  /** `refused`: the operation did not apply (the deployment changed meanwhile, say); `message` says why. */
  readonly outcome: "done" | "requested" | "refused"
  readonly message: Option.Option<string>
}

/**
 * What a bulk operation did.
 *
 * @since 0.3.0
 * @category models
 */
export interface BulkResult {
  readonly operation: Exclude<Operation, "restart">
  readonly dryRun: boolean
  /** How many deployments matched the filter when the operation started. */
  readonly matched: number
  readonly ids: ReadonlyArray<string>
  /** One item per matched deployment, in the order of `ids`; empty on a dry run. */
  readonly items: ReadonlyArray<BulkItem>
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
   * its item, not failed on.
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
 * Options of the runtime.
 *
 * **Details**
 *
 * Every option is checked when the runtime is built: a value out of its range fails `make` (and the layers) with
 * `InvalidOption`, naming the option and what it accepts, and nothing starts. The ranges and defaults are listed in
 * `docs/limits.md`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** This process's identity as a lease owner; unique per live process. Random by default. */
  readonly owner?: string
  /** Leases, heartbeat and background recovery. */
  readonly recovery?: {
    /** How long a lease holds without renewal; another process resumes a deployment after it. 30 s by default. */
    readonly leaseTtl?: Duration.Input
    /** How often leases are renewed; a third of `leaseTtl` by default. */
    readonly heartbeat?: Duration.Input
    /** How often the recovery loop looks for deployments to resume; 5 s by default. */
    readonly pollInterval?: Duration.Input
    /**
     * How many deployments one recovery pass claims at most; 100 by default. A pass that comes back full is followed
     * at once by another, so a backlog is drained at the speed the process resumes deployments, not at one batch
     * per poll interval.
     */
    readonly batch?: number
    /**
     * How many deployments this process runs at once at most, counting those it started; recovery passes claim
     * nothing beyond it (each in-flight deployment holds about 22 KiB of heap and one id in every heartbeat).
     * 1,000 by default. `start` is not limited by it.
     */
    readonly maxInFlight?: number
    /** Whether the recovery loop runs in the background; `true` by default (`resume()` works either way). */
    readonly enabled?: boolean
    /**
     * How many times a deployment may be resumed without reaching a new checkpoint; 10 by default (an integer from
     * 1 to 1,000,000). Past it, the job it is at fails with `ResumeLimitExceeded` and the deployment rolls back (in a
     * rollback, that rollback is recorded as failed and the earlier ones still run): the backstop for whatever stops
     * every run of a deployment.
     *
     * @since 0.2.0
     */
    readonly maxResumes?: number
  }
  /** How often `await` reads the store for a deployment that runs in another process; 1 s by default. */
  readonly awaitPollInterval?: Duration.Input
  /**
   * How long releasing the layer waits for local runs to stop (they stop at their next checkpoint or job
   * boundary); 10 s by default (a finite duration from 0 to 24 hours). Past it, the release completes anyway, and
   * the deployments still running here are resumed later from their last checkpoint, as after a crash.
   *
   * @since 0.2.0
   */
  readonly shutdownTimeout?: Duration.Input
}

/** Where each of `counts`' counts stops. */
const countLimit = 10_000

/** How many deployments one `prune` statement deletes at most. */
const pruneBatch = 1000

/**
 * The failures one operation can end with: the operations share one implementation, whose failures are the union of
 * theirs (only `retry` and `restart` validate an input; only `stop` answers `DeploymentNotRunning`).
 */
const narrow = <E>() => <A, E2>(effect: Effect.Effect<A, E2>): Effect.Effect<A, E> => effect as Effect.Effect<A, never>

const isTransient = (error: unknown): boolean => error instanceof PersistenceError && error.isTransient

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
    const owner = settings.owner
    const leaseTtl = settings.recovery.leaseTtl
    const leaseTtlMillis = Duration.toMillis(leaseTtl)
    const heartbeatEvery = settings.recovery.heartbeat
    const pollInterval = settings.recovery.pollInterval
    const batch = settings.recovery.batch
    const maxInFlight = settings.recovery.maxInFlight
    const awaitPollInterval = settings.awaitPollInterval
    const maxResumes = settings.recovery.maxResumes

    const registry = makeRegistry()
    const running = new Map<string, Handle>()
    const leases = makeLeases({ store, owner, leaseTtlMillis, running, scope })
    const { interruptLocal } = leases

    const env: RunnerEnv = {
      store,
      // The retry is set up only once an attempt failed: the path without failures stays cheap.
      // Gaps of 25, 50, 100 and 200 ms between the attempts.
      retryTransient: (effect) =>
        Effect.catchIf(
          effect,
          isTransient,
          () =>
            Effect.andThen(
              Effect.sleep("25 millis"),
              Effect.retry(effect, { schedule: Schedule.exponential("50 millis"), times: 3, while: isTransient })
            )
        ),
      maxResumes
    }

    /**
     * A stop asked while a failure was pausing the deployment found it still running and set its stop flag: the pause
     * committed all the same, so the stop is carried out now (the deployment rolls back, as the stop asked).
     */
    const stopIfAskedWhilePausing = (handle: Handle) =>
      // The run published its outcome before it returned.
      Effect.flatMap(Deferred.await(handle.outcome), (outcome) => {
        if (outcome._tag !== "Paused" || !outcome.stopRequested) return Effect.void
        return operations.operate("stop", {
          deploymentId: handle.deploymentId,
          reason: "a stop was asked while the failure paused the deployment",
          input: undefined,
          key: undefined
        }).pipe(
          Effect.catch((error) => Effect.logWarning(`stopping paused deployment ${handle.deploymentId} failed`, error)),
          Effect.asVoid
        )
      })

    const launch = (reg: Registration, snapshot: Snapshot, fresh: boolean): Effect.Effect<Handle> =>
      Effect.gen(function*() {
        const deployment = snapshot.deployment
        const handle: Handle = {
          deploymentId: deployment.id,
          registration: reg,
          outcome: yield* Deferred.make<Outcome>(),
          fiber: undefined,
          interruptReason: undefined,
          fence: { deploymentId: deployment.id, owner, epoch: deployment.leaseEpoch },
          resumes: deployment.resumes
        }
        running.set(deployment.id, handle)
        handle.fiber = yield* runDeployment(env, reg, snapshot, handle, fresh).pipe(
          Effect.ensuring(Effect.sync(() => {
            if (running.get(deployment.id) === handle) running.delete(deployment.id)
          })),
          trackRun(reg, fresh),
          Effect.andThen(stopIfAskedWhilePausing(handle)),
          Effect.forkIn(scope)
        )
        return handle
      })

    /** Creates the deployment from an encoded first input, and runs it unless it existed already. */
    const create = makeCreate({
      env,
      owner,
      leaseTtlMillis,
      scope,
      launch: (reg, snapshot) => Effect.asVoid(launch(reg, snapshot, true)),
      isRunning: (deploymentId) => running.has(deploymentId)
    })

    const invalidInput = (reg: Registration) => (error: Schema.SchemaError) =>
      new InputValidationError({ action: reg.action.name, job: reg.jobs[0]!.job.name, ...describeSchemaError(error) })

    const start = <A extends Action.Any>(action: A, input: Action.Input<A>, startOptions?: StartOptions) =>
      Effect.gen(function*() {
        const reg = yield* registry.lookup(action, startOptions?.application)
        const first = reg.jobs[0]!
        const json = yield* Effect.mapError(first.input.encode(input), invalidInput(reg))
        // Decoding what will be persisted catches values the schema encodes but cannot read back.
        yield* Effect.mapError(first.input.decode(json), invalidInput(reg))
        return yield* create(reg, json, startOptions?.key)
      })

    const startByName = (ref: ActionRef, input: unknown, startOptions?: { readonly key?: string }) =>
      Effect.gen(function*() {
        const reg = yield* registry.lookupByName(ref)
        const first = reg.jobs[0]!
        const decoded = yield* Effect.mapError(first.input.decode(input), invalidInput(reg))
        const json = yield* Effect.mapError(first.input.encode(decoded), invalidInput(reg))
        return yield* create(reg, json, startOptions?.key)
      })

    const readSnapshot = (deploymentId: string) =>
      Effect.flatMap(env.retryTransient(store.get(deploymentId)), (found) =>
        Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new DeploymentNotFound({ deploymentId })))

    const resultFromStore = (snapshot: Snapshot) =>
      Effect.gen(function*() {
        const { deployment } = snapshot
        const reg = registry.registrationFor(deployment.application, deployment.action)
        if (deployment.status === "succeeded") {
          return { deploymentId: deployment.id, output: yield* storedOutput(snapshot, reg) }
        }
        return yield* Effect.flatMap(storedFailure(store, snapshot, reg), Effect.fail)
      })

    /** Waits for a deployment: on its local run when it runs here, else by reading its status until it ends. */
    const awaitById: (deploymentId: string) => Effect.Effect<ExecuteResult<unknown>, AwaitError> = makeAwait({
      env,
      running,
      pollInterval: awaitPollInterval,
      result: resultFromStore
    })

    /** A deployment of another action than the one asked for: its result is not typed by `action`. */
    const notOfAction = (action: Action.Any, deploymentId: string, application: string, actionName: string) =>
      new ActionNotFound({
        application,
        action: action.name,
        detail: `deployment ${deploymentId} belongs to action "${actionName}" of application "${application}"`
      })

    const awaitTyped = <A extends Action.Any>(action: A, deploymentId: string) =>
      Effect.gen(function*() {
        const handle = running.get(deploymentId)
        if (handle !== undefined && handle.registration.action !== action) {
          const { application, action: other } = handle.registration
          return yield* notOfAction(action, deploymentId, application, other.name)
        }
        if (handle === undefined) {
          const snapshot = yield* readSnapshot(deploymentId)
          const { deployment } = snapshot
          if (deployment.action !== action.name || !registry.isRegistered(action, deployment.application)) {
            return yield* notOfAction(action, deploymentId, deployment.application, deployment.action)
          }
        }
        return (yield* awaitById(deploymentId)) as ExecuteResult<Action.Output<A>>
      })

    const operations = makeOperations({
      env,
      owner,
      leaseTtlMillis,
      registrationOf: registry.registrationOf,
      registrationFor: registry.registrationFor,
      runnable: registry.runnable,
      launch: (reg, snapshot) => Effect.asVoid(launch(reg, snapshot, true)),
      isRunning: (deploymentId) => running.has(deploymentId),
      interruptLocal: (deploymentId) => interruptLocal(deploymentId, "stop"),
      createRestart: (reg, input, key, id, restartOf) => create(reg, input, key, { id, restartOf })
    })

    const recovery = makeRecovery({
      store,
      owner,
      leaseTtlMillis,
      batch,
      maxInFlight,
      registry,
      running,
      launch,
      interruptLocal,
      carryRequests: operations.carryRequests
    })
    yield* leases.keep(heartbeatEvery)
    if (settings.recovery.enabled) yield* recovery.loop(pollInterval, scope)

    // Every public operation checks its arguments first (`internal/validate.ts`): a bad one is an
    // `InvalidArgument`, and nothing is done.
    return Actions.of({
      owner,
      register: registry.register,
      start: Effect.fn("Actions.start")(function*<A extends Action.Any>(
        action: A,
        input: Action.Input<A>,
        startOptions?: StartOptions
      ) {
        yield* Validate.actionArgument("start", action)
        return yield* start(action, input, yield* Validate.startOptionsArgument("start", startOptions))
      }),
      execute: Effect.fn("Actions.execute")(function*<A extends Action.Any>(
        action: A,
        input: Action.Input<A>,
        startOptions?: StartOptions
      ) {
        yield* Validate.actionArgument("execute", action)
        const id = yield* start(action, input, yield* Validate.startOptionsArgument("execute", startOptions))
        return (yield* awaitById(id)) as ExecuteResult<Action.Output<A>>
      }),
      await: Effect.fn("Actions.await")(function*<A extends Action.Any>(action: A, deploymentId: string) {
        yield* Validate.actionArgument("await", action)
        return yield* awaitTyped(action, yield* Validate.deploymentIdArgument("await", deploymentId))
      }),
      executeByName: Effect.fn("Actions.executeByName")(function*(ref: ActionRef, input: unknown, startOptions?: { readonly key?: string }) {
        const checkedRef = yield* Validate.actionRefArgument("executeByName", ref)
        const checkedOptions = yield* Validate.keyOptionsArgument("executeByName", startOptions)
        return yield* awaitById(yield* startByName(checkedRef, input, checkedOptions))
      }),
      startByName: Effect.fn("Actions.startByName")(function*(ref: ActionRef, input: unknown, startOptions?: { readonly key?: string }) {
        const checkedRef = yield* Validate.actionRefArgument("startByName", ref)
        return yield* startByName(checkedRef, input, yield* Validate.keyOptionsArgument("startByName", startOptions))
      }),
      awaitById: Effect.fn("Actions.awaitById")(function*(deploymentId: string) {
        return yield* awaitById(yield* Validate.deploymentIdArgument("awaitById", deploymentId))
      }),
      get: Effect.fn("Actions.get")(function*(deploymentId: string) {
        const snapshot = yield* readSnapshot(yield* Validate.deploymentIdArgument("get", deploymentId))
        return yield* toDeployment(snapshot, yield* env.retryTransient(store.history(snapshot.deployment.id)))
      }),
      list: Effect.fn("Actions.list")(function*(listOptions?: ListOptions) {
        const query = yield* Validate.listOptionsArgument(listOptions)
        const page = yield* env.retryTransient(store.list(query))
        const items: Array<Deployment> = []
        const unreadable: Array<StoredDataCorrupt> = (page.unreadable ?? []).map(({ id, issue }) =>
          new StoredDataCorrupt({ deploymentId: id, field: "deployment record", issue })
        )
        for (const row of page.items) {
          const decoded = yield* Effect.result(toDeploymentWithoutJobs(row))
          if (decoded._tag === "Success") items.push(decoded.success)
          else unreadable.push(decoded.failure)
        }
        return { items, next: Option.fromUndefinedOr(page.next), unreadable }
      }),
      counts: Effect.fn("Actions.counts")(function*(filter?: { readonly application?: string; readonly action?: string }) {
        const checked = yield* Validate.countsArgument(filter)
        const counts = yield* env.retryTransient(store.counts({ ...checked, limit: countLimit }))
        return { counts, atMost: countLimit }
      }),
      jobData: Effect.fn("Actions.jobData")(function*(deploymentId: string) {
        const id = yield* Validate.deploymentIdArgument("jobData", deploymentId)
        const rows = yield* env.retryTransient(store.jobData(id))
        if (rows.length === 0) yield* readSnapshot(id)
        return rows
      }),
      errors: Effect.fn("Actions.errors")(function*(deploymentId: string, errorOptions?: { readonly job?: string }) {
        const id = yield* Validate.deploymentIdArgument("errors", deploymentId)
        const { job } = yield* Validate.errorsOptionsArgument(errorOptions)
        const rows = yield* env.retryTransient(store.errors(id, job))
        if (rows.length === 0) yield* readSnapshot(id)
        return yield* toErrorEntries(id, rows)
      }),
      stop: Effect.fn("Actions.stop")(function*(deploymentId: string, operationOptions?: OperationOptions) {
        return yield* narrow<OperationError | DeploymentNotRunning>()(
          operations.operate("stop", yield* operationArguments("stop", deploymentId, operationOptions))
        )
      }),
      retry: Effect.fn("Actions.retry")(function*(deploymentId: string, retryOptions?: RetryOptions) {
        return yield* narrow<OperationError | InputValidationError>()(
          operations.operate("retry", yield* operationArguments("retry", deploymentId, retryOptions))
        )
      }),
      rollback: Effect.fn("Actions.rollback")(function*(deploymentId: string, operationOptions?: OperationOptions) {
        return yield* narrow<OperationError>()(
          operations.operate("rollback", yield* operationArguments("rollback", deploymentId, operationOptions))
        )
      }),
      retryRollback: Effect.fn("Actions.retryRollback")(function*(deploymentId: string, operationOptions?: OperationOptions) {
        return yield* narrow<OperationError>()(
          operations.operate("retry_rollback", yield* operationArguments("retry_rollback", deploymentId, operationOptions))
        )
      }),
      restart: Effect.fn("Actions.restart")(function*(deploymentId: string, restartOptions?: RestartOptions) {
        return yield* narrow<OperationError | InputValidationError>()(
          operations.operate("restart", yield* operationArguments("restart", deploymentId, restartOptions))
        )
      }),
      bulk: Effect.fn("Actions.bulk")(function*(bulkOptions: BulkOptions) {
        return yield* operations.bulk(yield* bulkArguments(bulkOptions))
      }),
      resume: Effect.fn("Actions.resume")(recovery.resume),
      prune: Effect.fn("Actions.prune")(function*(pruneOptions: { readonly olderThan: Duration.Input }) {
        const olderThan = yield* Validate.pruneOptionsArgument(pruneOptions)
        const before = (yield* Clock.currentTimeMillis) - Duration.toMillis(olderThan)
        // In batches, so that no single write deletes an unbounded number of rows.
        let pruned = 0
        while (true) {
          const deleted = yield* env.retryTransient(store.prune(before, pruneBatch))
          pruned += deleted
          if (deleted < pruneBatch) return pruned
        }
      })
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
