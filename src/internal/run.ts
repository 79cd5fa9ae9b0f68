/**
 * The state of one run of a deployment, and the plumbing every part of the run shares: fenced checkpoints, state
 * encoding, decoding stored values, and how a run that cannot go on ends (abandoned, or parked for corrupt data).
 * The run record itself and the `JobContext` a job function sees are built in `runContext.ts`.
 *
 * @internal
 */
import { Cause, Clock, Effect, Exit, Schema } from "effect"
import type { Context, Deferred, Fiber } from "effect"
import {
  DeploymentFailed,
  type LeaseLost,
  type PersistenceError,
  type RollbackFailure,
  StateValidationError,
  StoredDataCorrupt,
  UnstorableValue
} from "../ActionError.ts"
import type { Failure, JobPhase } from "../Deployment.ts"
import type {
  Checkpoint,
  CheckpointResult,
  DeploymentStoreShape,
  Fence,
  Json,
  NewErrorRow
} from "../DeploymentStore.ts"
import type * as State from "../State.ts"
import { describeError, describeSchemaError, encodeOrUndefined } from "./codec.ts"
import { startCheckpoint } from "./metrics.ts"
import { isTransient, retryAfterTransient, retryTransient } from "./transient.ts"
import { jsonIssue, storableRow, storableText } from "./storable.ts"
import type { CompiledJob, Registration } from "./registration.ts"
import {
  type Event,
  isTerminal,
  type Next,
  next,
  parkCheckpoint,
  type Progress,
  type UnsavedOutput,
  type Write
} from "./transitions.ts"

export { logText, storableRow } from "./storable.ts"

/**
 * Why a local run stopped without finishing the deployment: the runtime shut down, the lease was lost, the store
 * failed (or died), the stored data is corrupt, or the runtime itself met a defect (a bug, logged as an error).
 */
export type AbandonReason = "shutdown" | "lease_lost" | "persistence" | "corrupt" | "defect"

/** How a run ended, as published to awaiters in this process. */
export type Outcome =
  | { readonly _tag: "Succeeded"; readonly output: unknown }
  | { readonly _tag: "Failed"; readonly error: DeploymentFailed }
  /** The failure policy paused the deployment: it waits for an operator (`retry`, `rollback`, `stop`). */
  | { readonly _tag: "Paused"; readonly failure: Failure; readonly stopRequested: boolean }
  | { readonly _tag: "Abandoned"; readonly reason: AbandonReason; readonly error: unknown }

/** The local handle of a running deployment. */
export interface Handle {
  readonly deploymentId: string
  /** The registration the run executes: what its outcome's output is typed by. */
  readonly registration: Registration
  readonly outcome: Deferred.Deferred<Outcome>
  fiber: Fiber.Fiber<Outcome> | undefined
  /** Set before the run's fiber is interrupted, to tell a user stop from a lost lease (unset: shutdown). */
  interruptReason: "stop" | "lease_lost" | undefined
  fence: Fence
  /** The stored resume count (claims since the last checkpoint); the next checkpoint that makes progress resets it. */
  resumes: number
}

/**
 * How a deployment came to be launched by this process:
 * - `created`: it was just created (it counts as started, and its first job's attempt is already recorded);
 * - `takenOver`: an operator's operation took it over and recorded what it changed (an attempt of a retried job
 *   included), so it is not started again and no attempt is counted on launch;
 * - `resumed`: recovery claimed it after another process (or this one) stopped running it.
 */
export type LaunchKind = "created" | "takenOver" | "resumed"

/** What a run needs from the `Actions` service. */
export interface RunnerEnv {
  readonly store: DeploymentStoreShape
  /** A deployment claimed more often than this without reaching a new checkpoint is failed, not run again. */
  readonly maxResumes: number
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

/**
 * The state of one run. What is persisted of the deployment is `progress`, a value the transitions
 * (`transitions.ts`) compute and the run replaces once their checkpoint committed; the rest is local to the run.
 */
export interface Run {
  readonly env: RunnerEnv
  readonly reg: Registration
  readonly handle: Handle
  readonly deploymentId: string
  /** What job functions run with: the registration's services, the state cell, and the run's `JobContext`. */
  context: Context.Context<never>
  readonly cell: StateCell | undefined
  readonly recorded: WeakSet<object>
  readonly annotations: Record<string, string>
  /** The clock of the run's fiber, read once when the run starts: the times of its checkpoints. */
  readonly clock: Clock.Clock
  /** The deployment's progress as of the last checkpoint that committed. */
  progress: Progress
  /** Index of the job running now, being rolled back, or whose input is being prepared. */
  current: number
  phase: JobPhase
  /** The output of a job that finished, while the checkpoint that records it is not written yet. */
  unsaved: UnsavedOutput | undefined
  failure: Failure | undefined
  failureError: unknown
  readonly rollbackFailures: Array<RollbackFailure>
  abandoned: Abandon | undefined
}

/** The transition of `event` from the run's progress. A run only sends events that apply: a refusal is a defect. */
export const transition = (run: Run, event: Event): Effect.Effect<Next & { readonly checkpoint: Write }> => {
  const result = next(run.progress, event)
  if (result._tag === "Next" && result.checkpoint !== undefined) {
    return Effect.succeed(result as Next & { readonly checkpoint: Write })
  }
  const why = result._tag === "Refused" ? `refused (${result.reason}): ${result.detail}` : "writes nothing"
  return Effect.die(new Error(`deployment ${run.deploymentId}: the transition ${event._tag} ${why}`))
}

/** Keeps the progress of a transition whose checkpoint committed, and a stop the store reported meanwhile. */
export const committed = (run: Run, planned: Next, result?: CheckpointResult): void => {
  run.progress = planned.progress
  if (result?.stopRequested === true && run.progress.status === "running") {
    const stopped = next(run.progress, { _tag: "StopRequested", at: planned.checkpoint?.at ?? 0 })
    if (stopped._tag === "Next") run.progress = stopped.progress
  }
}

/** Whether the run wrote its deployment's terminal status. */
export const ended = (run: Run): boolean => isTerminal(run.progress.status)

export const now = Clock.currentTimeMillis

/** The time now, on the run's clock (a synchronous read: no fiber step). */
export const timeOf = (run: Pick<Run, "clock">): number => run.clock.currentTimeMillisUnsafe()

/** What a store failure means for the local run: a lost lease, or a store it cannot reach. */
export const abandonFor = (error: PersistenceError | LeaseLost): Abandon =>
  new Abandon(error._tag === "LeaseLost" ? "lease_lost" : "persistence", error)

/** Why a write that failed stops the local run: its `Abandon`, or the failure itself as a persistence problem. */
export const abandonOf = (cause: Cause.Cause<unknown>): Abandon =>
  findAbandon(cause) ?? new Abandon("persistence", Cause.squash(cause))

/** A store call of a job's context: transient failures retried, and any other stops the local run (`Abandon`). */
export const abandonOnStoreFailure = <A, R>(
  effect: Effect.Effect<A, PersistenceError | LeaseLost, R>
): Effect.Effect<A, never, R> => Effect.catch(retryTransient(effect), (error) => Effect.die(abandonFor(error)))

/** Whether a store failure is permanent for the value written: retrying the same write can never succeed. */
export const isRefusal = (error: PersistenceError | LeaseLost): error is PersistenceError =>
  error._tag === "PersistenceError" && error.reason === "invalid"

/**
 * One atomic, fenced checkpoint. A lost lease or a store failure that may pass (after retries, unless `retry` is
 * false, as inside a transaction) becomes an `Abandon` defect: the local run stops, and the deployment resumes
 * later. A refusal of the value written (`invalid`) fails with the `PersistenceError`, or with what `refused`
 * makes of it: retrying could never store it, so the caller fails the job or the rollback instead. A checkpoint
 * that `progress`es (every one but the attempt count written on resume) resets the stored resume count.
 *
 * It runs where the run runs, uninterruptibly (only a job's own effects are interruptible): a checkpoint is never
 * cut short. Its duration is recorded, whatever its end. Without a failure it costs the store's operation and
 * two fiber steps.
 */
export const write = <E = PersistenceError>(
  run: Run,
  checkpoint: Omit<Checkpoint, "fence">,
  options?: {
    readonly retry?: boolean
    readonly progress?: boolean
    readonly refused?: (error: PersistenceError) => E
  }
): Effect.Effect<CheckpointResult, E> => {
  const reset = options?.progress !== false && run.handle.resumes > 0
  let attempt: Effect.Effect<CheckpointResult, PersistenceError | LeaseLost>
  try {
    attempt = run.env.store.checkpoint({
      ...checkpoint,
      deployment: reset ? { ...checkpoint.deployment, resumes: 0 } : checkpoint.deployment,
      fence: run.handle.fence
    })
  } catch (defect) {
    // A store that throws instead of returning an effect has died like one whose effect dies (below).
    attempt = Effect.die(defect)
  }
  const refused = options?.refused
  return Effect.withFiber((fiber) => {
    const recordDuration = startCheckpoint(run.reg, fiber)
    const settle = (retry: boolean) => (cause: Cause.Cause<PersistenceError | LeaseLost>): Effect.Effect<CheckpointResult, E> => {
      const error = Cause.findErrorOption(cause)
      if (error._tag === "Some" && retry && isTransient(error.value)) {
        return Effect.matchCauseEffect(retryAfterTransient(attempt), { onFailure: settle(false), onSuccess: succeeded })
      }
      recordDuration()
      // A store that dies (a driver's bug) leaves the checkpoint's outcome unknown, as a store it cannot reach does:
      // the local run stops. An interruption goes on as one.
      if (error._tag === "None") {
        const defect = Cause.findDefect(cause)
        if (defect._tag === "Failure") return Effect.failCause(cause as Cause.Cause<never>)
        return Effect.die(defect.success instanceof Abandon ? defect.success : new Abandon("persistence", defect.success))
      }
      if (!isRefusal(error.value)) return Effect.die(abandonFor(error.value))
      return Effect.fail(refused === undefined ? error.value as E : refused(error.value))
    }
    const succeeded = (result: CheckpointResult) => {
      recordDuration()
      if (reset) run.handle.resumes = 0
      return Exit.succeed(result)
    }
    return Effect.matchCauseEffect(attempt, { onFailure: settle(options?.retry !== false), onSuccess: succeeded })
  })
}

/** Names what a refused checkpoint held that the store cannot hold, for `UnstorableValue`. */
export const refusedValue = (run: Run, checkpoint: Omit<Checkpoint, "fence">): string => {
  const { deployment, jobs } = checkpoint
  if (deployment.output !== undefined && jsonIssue(deployment.output) !== undefined) return "output"
  for (const job of jobs) {
    const name = run.reg.jobs[job.index]?.job.name ?? `#${job.index}`
    if (job.output !== undefined && jsonIssue(job.output) !== undefined) return `output of job "${name}"`
    if (job.input !== undefined && jsonIssue(job.input) !== undefined) return `input of job "${name}"`
  }
  if (deployment.state !== undefined && jsonIssue(deployment.state) !== undefined) return "state"
  return "checkpoint (output, next input and state)"
}

/** The job failure for a checkpoint the store refused. */
export const unstorable = (run: Run, job: string, checkpoint: Omit<Checkpoint, "fence">, error: PersistenceError) =>
  new UnstorableValue({ job, value: refusedValue(run, checkpoint), detail: storableText(error.detail) })

const unchangedState = Effect.succeed({})

/** The state patch of a checkpoint: the encoded state when it changed since the last checkpoint. */
export const encodeState = (run: Run, job: string): Effect.Effect<{ readonly state?: Json }, StateValidationError> => {
  const cell = run.cell
  const state = run.reg.state
  if (cell === undefined || state === undefined || !cell.dirty) return unchangedState
  return Effect.mapErrorEager(
    Effect.mapEager(state.codec.encode(cell.value), (encoded) => ({ state: encoded })),
    (error) => new StateValidationError({ action: run.reg.action.name, job, ...describeSchemaError(error) })
  )
}

export const errorRow = (job: CompiledJob, phase: JobPhase, error: unknown, at: number): NewErrorRow => {
  const { message, tag } = describeError(error)
  const detail = job.job.error === undefined ? undefined : encodeOrUndefined(job.job.error, error)
  return storableRow({ job: job.job.name, phase, tag, message, detail, at })
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
    } else if (abandon.reason === "defect") {
      yield* Effect.logError("deployment run stopped by a defect of the runtime; it resumes once its lease lapses", abandon.error)
    } else {
      yield* Effect.logWarning(`deployment run stopped without finishing (${abandon.reason})`, abandon.error)
    }
    return { _tag: "Abandoned", reason: abandon.reason, error: abandon.error } as const
  })

/**
 * Decodes a stored value of a job, or abandons the run as corrupt: the value does not fit the schema, or the schema
 * died on it (the JSON codecs refuse that value as a `SchemaError`, `codec.ts`). Either way no run can go on from
 * it, so the deployment is parked (reported), not resumed again and again.
 */
export const decodeStored = (
  deploymentId: string,
  codec: { readonly decode: (json: unknown) => Effect.Effect<unknown, Schema.SchemaError> },
  value: Json | undefined,
  job: string | undefined,
  field: string
): Effect.Effect<unknown, Abandon> =>
  Effect.mapErrorEager(codec.decode(value), (error) => new Abandon("corrupt", corrupt(deploymentId, job, field, error)))

/**
 * Parks a deployment whose stored data does not decode: one fenced checkpoint records why (`parked`), appends the
 * report to the error log and gives the lease up, so that no process claims it again until an operator repairs
 * it (`docs/operations.md`), and every `await` of it fails with `StoredDataCorrupt`. The data itself is left as it
 * is. When the store cannot take the write, the run is abandoned and a later claim parks it.
 */
export const parkCorrupt = (run: Pick<Run, "env" | "handle">, abandon: Abandon): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    if (abandon.reason !== "corrupt" || !(abandon.error instanceof StoredDataCorrupt)) return yield* abandoned(run, abandon)
    const error = abandon.error
    const at = yield* now
    const checkpoint = parkCheckpoint(at, {
      job: error.job,
      field: error.field,
      issue: error.issue,
      tag: error._tag,
      message: error.message
    })
    const written = yield* Effect.exit(
      // Suspended: a store that throws instead of returning an effect is a failed write too.
      Effect.suspend(() => retryTransient(run.env.store.checkpoint({ ...checkpoint, fence: run.handle.fence })))
    )
    if (written._tag === "Failure") {
      return yield* abandoned(run, new Abandon("persistence", Cause.squash(written.cause)))
    }
    yield* Effect.logError(`deployment ${run.handle.deploymentId} is parked: ${error.message}`)
    return { _tag: "Abandoned", reason: "corrupt", error } as const
  })
