/**
 * The state of one run of a deployment, and the plumbing every part of the run shares: fenced checkpoints, state
 * encoding, the `JobContext` a job function sees, and how a run that cannot go on ends (abandoned, or parked for
 * corrupt data).
 *
 * @internal
 */
import { Cause, Clock, Context, Effect, Option, Schema } from "effect"
import type { Deferred, Fiber } from "effect"
import {
  DeploymentFailed,
  InvalidJobData,
  type LeaseLost,
  type PersistenceError,
  type RollbackFailure,
  StateValidationError,
  StoredDataCorrupt
} from "../ActionError.ts"
import { ErrorEntry, type Failure, type JobPhase, type JobStatus } from "../Deployment.ts"
import type {
  Checkpoint,
  CheckpointResult,
  DeploymentStoreShape,
  Fence,
  JobPatch,
  Json,
  NewErrorRow,
  Snapshot
} from "../DeploymentStore.ts"
import { JobContext, type JobContextShape } from "../JobContext.ts"
import type * as State from "../State.ts"
import { describeError, describeSchemaError, encodeOrUndefined, jsonCodec } from "./codec.ts"
import type { CompiledJob, Registration } from "./registration.ts"

/** Why a local run stopped without finishing the deployment. */
export type AbandonReason = "shutdown" | "lease_lost" | "persistence" | "corrupt"

/** How a run ended, as published to awaiters in this process. */
export type Outcome =
  | { readonly _tag: "Succeeded"; readonly output: unknown }
  | { readonly _tag: "Failed"; readonly error: DeploymentFailed }
  | { readonly _tag: "Abandoned"; readonly reason: AbandonReason; readonly error: unknown }

/** The local handle of a running deployment. */
export interface Handle {
  readonly deploymentId: string
  /** The registration the run executes: what its outcome's output is typed by. */
  readonly registration: Registration
  readonly outcome: Deferred.Deferred<Outcome>
  fiber: Fiber.Fiber<void> | undefined
  /** Set before the run's fiber is interrupted, to tell a user stop from a lost lease (unset: shutdown). */
  interruptReason: "stop" | "lease_lost" | undefined
  fence: Fence
}

/** What a run needs from the `Actions` service. */
export interface RunnerEnv {
  readonly store: DeploymentStoreShape
  /** Retries a store operation that failed with a transient `PersistenceError` (safe to repeat). */
  readonly retryTransient: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** An infrastructure failure raised as a defect inside job functions, so that it never mixes with job errors. */
export class Abandon {
  readonly reason: AbandonReason
  readonly error: unknown
  constructor(reason: AbandonReason, error: unknown) {
    this.reason = reason
    this.error = error
  }
}

export const findAbandon = (cause: Cause.Cause<unknown>): Abandon | undefined => {
  for (const reason of cause.reasons) {
    if (reason._tag === "Die" && reason.defect instanceof Abandon) return reason.defect
  }
  return undefined
}

export interface StateCell extends State.Cell<unknown> {
  value: unknown
  dirty: boolean
}

/** The mutable state of one run. */
export interface Run {
  readonly env: RunnerEnv
  readonly reg: Registration
  readonly handle: Handle
  readonly deploymentId: string
  /** What job functions run with: the registration's services, the state cell, and the run's `JobContext`. */
  context: Context.Context<never>
  readonly cell: StateCell | undefined
  readonly statuses: Array<JobStatus>
  readonly attempts: Array<number>
  readonly recorded: WeakSet<object>
  readonly annotations: Record<string, string>
  /** Index of the job running now (or whose input is being prepared). */
  current: number
  phase: JobPhase
  /** Highest index whose rollback is armed. */
  armed: number
  /** A finished job whose output is not checkpointed yet. */
  unsaved: JobPatch | undefined
  failure: Failure | undefined
  failureError: unknown
  readonly rollbackFailures: Array<RollbackFailure>
  abandoned: Abandon | undefined
  /** The terminal write committed. */
  terminal: boolean
  stopRequested: boolean
}

export const now = Clock.currentTimeMillis

/** What a store failure means for the local run: a lost lease, or a store it cannot reach. */
const abandonFor = (error: PersistenceError | LeaseLost): Abandon =>
  new Abandon(error._tag === "LeaseLost" ? "lease_lost" : "persistence", error)

/** Why a write that failed stops the local run: its `Abandon`, or the failure itself as a persistence problem. */
export const abandonOf = (cause: Cause.Cause<unknown>): Abandon =>
  findAbandon(cause) ?? new Abandon("persistence", Cause.squash(cause))

export const abandonOnStoreFailure = <A, R>(
  run: Run,
  effect: Effect.Effect<A, PersistenceError | LeaseLost, R>
): Effect.Effect<A, never, R> => Effect.catch(run.env.retryTransient(effect), (error) => Effect.die(abandonFor(error)))

/**
 * One atomic, fenced checkpoint. A lost lease or an unreachable store (after retries, unless `retry` is false, as
 * inside a transaction) becomes an `Abandon` defect; a value the store refuses to hold (`invalid`) fails the job:
 * retrying the deployment could never store it.
 */
export const write = (
  run: Run,
  checkpoint: Omit<Checkpoint, "fence">,
  retry = true
): Effect.Effect<CheckpointResult, PersistenceError> => {
  const attempt = run.env.store.checkpoint({ ...checkpoint, fence: run.handle.fence })
  return Effect.uninterruptible(
    Effect.catch(
      retry ? run.env.retryTransient(attempt) : attempt,
      (error) =>
        error._tag === "PersistenceError" && error.reason === "invalid" ? Effect.fail(error) : Effect.die(abandonFor(error))
    )
  )
}

const unchangedState = Effect.succeed({})

/** The state patch of a checkpoint: the encoded state when it changed since the last checkpoint. */
export const encodeState = (run: Run, job: string): Effect.Effect<{ readonly state?: Json }, StateValidationError> => {
  const cell = run.cell
  const state = run.reg.state
  if (cell === undefined || state === undefined || !cell.dirty) return unchangedState
  return state.codec.encode(cell.value).pipe(
    Effect.map((encoded) => ({ state: encoded })),
    Effect.mapError((error) =>
      new StateValidationError({ action: run.reg.action.name, job, ...describeSchemaError(error) })
    )
  )
}

export const errorRow = (job: CompiledJob, phase: JobPhase, error: unknown, at: number): NewErrorRow => {
  const { message, tag } = describeError(error)
  const detail = job.job.error === undefined ? undefined : encodeOrUndefined(job.job.error, error)
  return { job: job.job.name, phase, tag, message, detail, at }
}

/**
 * The `JobContext` of a run: one object for the whole run, whose job, index and attempt are those of the job running
 * (or being rolled back) when they are read, as jobs of a run never overlap.
 */
export const makeJobContext = (run: Run): JobContextShape => {
  const fence = () => run.handle.fence
  const store = run.env.store
  const current = () => run.reg.jobs[run.current]!
  const name = () => current().job.name
  return {
    deploymentId: run.deploymentId,
    application: run.reg.application,
    action: run.reg.action.name,
    get job() {
      return name()
    },
    get jobIndex() {
      return run.current
    },
    get attempt() {
      return run.attempts[run.current] ?? 1
    },
    get idempotencyKey() {
      return `${run.deploymentId}/${name()}`
    },
    get fencingToken() {
      return run.handle.fence.epoch
    },
    get phase() {
      return run.phase
    },
    setData: (key, schema, value) =>
      Effect.suspend(() => {
        const job = name()
        return Effect.flatMap(
          Effect.mapError(
            jsonCodec(schema).encode(value),
            (error) =>
              new InvalidJobData({ deploymentId: run.deploymentId, job, key, issue: describeSchemaError(error).issue })
          ),
          (encoded) => abandonOnStoreFailure(run, store.setJobData(fence(), job, key, encoded))
        )
      }),
    getData: (key, schema, options) =>
      Effect.suspend(() => {
        const owner = options?.job ?? name()
        return Effect.flatMap(
          abandonOnStoreFailure(run, store.getJobData(run.deploymentId, owner, key)),
          (stored) =>
            Option.isNone(stored)
              ? Effect.succeedNone
              : Effect.mapBoth(jsonCodec(schema).decode(stored.value), {
                onFailure: (error) =>
                  new StoredDataCorrupt({
                    deploymentId: run.deploymentId,
                    job: owner,
                    field: `job data "${key}"`,
                    issue: describeSchemaError(error).issue
                  }),
                onSuccess: Option.some
              })
        )
      }),
    recordError: (error) =>
      Effect.flatMap(now, (at) => {
        if (typeof error === "object" && error !== null) run.recorded.add(error)
        return abandonOnStoreFailure(run, store.appendErrors(fence(), [errorRow(current(), run.phase, error, at)]))
      }),
    errors: (options) =>
      Effect.flatMap(
        Effect.suspend(() =>
          abandonOnStoreFailure(
            run,
            store.errors(run.deploymentId, options?.currentJobOnly === true ? name() : undefined)
          )
        ),
        (rows) =>
          Effect.orDie(Effect.forEach(rows, (row) =>
            Effect.mapError(
              Schema.decodeUnknownEffect(ErrorEntry)(row),
              (error) => new Abandon("corrupt", corrupt(run.deploymentId, undefined, "error log", error))
            )))
      )
  }
}

export const corrupt = (deploymentId: string, job: string | undefined, field: string, error: Schema.SchemaError) =>
  new StoredDataCorrupt({
    deploymentId,
    ...(job === undefined ? {} : { job }),
    field,
    issue: describeSchemaError(error).issue
  })

/** Provides a job function with its context: the registration's services, the state cell, and `JobContext`. */
export const provideJob = <A, E, R>(run: Run, effect: Effect.Effect<A, E, R>) =>
  Effect.provideContext(effect, run.context) as Effect.Effect<A, E, never>

export const failedOutcome = (run: Run): Outcome => {
  const failure = run.failure!
  return {
    _tag: "Failed",
    error: new DeploymentFailed({
      deploymentId: run.deploymentId,
      application: run.reg.application,
      action: run.reg.action.name,
      status: run.rollbackFailures.length > 0 ? "rollback_failed" : "rolled_back",
      job: failure.job,
      reason: failure.tag,
      failureMessage: failure.message,
      error: run.failureError,
      rollbackFailures: run.rollbackFailures
    })
  }
}

export const abandoned = (run: Pick<Run, "env" | "handle">, abandon: Abandon): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    if (abandon.reason === "shutdown") {
      // Give the lease up so that another process can resume the deployment at once.
      yield* Effect.ignore(run.env.store.release(run.handle.fence, yield* now))
    } else {
      yield* Effect.logWarning(`deployment run stopped without finishing (${abandon.reason})`, abandon.error)
    }
    return { _tag: "Abandoned", reason: abandon.reason, error: abandon.error } as const
  })

/** Decodes a stored value of a job, or abandons the run as corrupt. */
export const decodeStored = (
  deploymentId: string,
  codec: { readonly decode: (json: unknown) => Effect.Effect<unknown, Schema.SchemaError> },
  value: Json | undefined,
  job: string | undefined,
  field: string
) =>
  Effect.mapError(codec.decode(value), (error) => new Abandon("corrupt", corrupt(deploymentId, job, field, error)))

/** Makes the state of a run from a stored snapshot. */
export const makeRun = (env: RunnerEnv, reg: Registration, snapshot: Snapshot, handle: Handle, state: unknown): Run => {
  const deployment = snapshot.deployment
  let cell: StateCell | undefined
  let context = reg.context
  if (reg.state !== undefined) {
    const stateCell: StateCell = {
      value: state,
      dirty: false,
      get: () => stateCell.value,
      set: (value) => {
        stateCell.value = value
        stateCell.dirty = true
      }
    }
    cell = stateCell
    context = Context.add(context, reg.state.definition.service, stateCell)
  }
  const run: Run = {
    env,
    reg,
    handle,
    deploymentId: deployment.id,
    context,
    cell,
    statuses: snapshot.jobs.map((job) => job.status),
    attempts: snapshot.jobs.map((job) => job.attempts),
    recorded: new WeakSet(),
    annotations: {
      "deployment.id": deployment.id,
      "deployment.application": deployment.application,
      "deployment.action": deployment.action
    },
    current: deployment.currentJob,
    phase: "input",
    armed: -1,
    unsaved: undefined,
    failure: undefined,
    failureError: undefined,
    rollbackFailures: [],
    abandoned: undefined,
    terminal: false,
    stopRequested: deployment.stopRequested
  }
  run.context = Context.add(context, JobContext, makeJobContext(run))
  return run
}

/** Reports corrupt stored data and keeps the lease (so the deployment is not claimed again and again). */
export const parkCorrupt = (run: Pick<Run, "env" | "handle">, abandon: Abandon): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    if (abandon.reason === "corrupt") {
      const at = yield* now
      const { message, tag } = describeError(abandon.error)
      yield* Effect.ignore(
        run.env.store.appendErrors(run.handle.fence, [{ job: undefined, phase: "resume", tag, message, detail: undefined, at }])
      )
      yield* Effect.logError(`deployment ${run.handle.deploymentId} cannot resume: ${message}`)
      return { _tag: "Abandoned", reason: "corrupt", error: abandon.error } as const
    }
    return yield* abandoned(run, abandon)
  })
