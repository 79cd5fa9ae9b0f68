/**
 * The execution of one deployment: forward through its jobs, checkpointing every boundary, and backward through
 * its rollbacks, which are finalizers of the deployment's scope.
 *
 * A run never fails: it writes every outcome to the store and publishes it on its handle. It ends in one of
 * three ways: succeeded, failed (rolled back), or abandoned: the local run stopped without touching the
 * deployment any further (shutdown, lease lost, store unavailable, corrupt data), leaving the deployment for a
 * later resume by whichever process holds its lease next.
 *
 * @internal
 */
import { Cause, Clock, Context, Deferred, Duration, Effect, Exit, Option, Schema, Scope } from "effect"
import type { Fiber } from "effect"
import {
  DeploymentFailed,
  ExecutionStopped,
  InputValidationError,
  InvalidJobData,
  JobNilOutput,
  type LeaseLost,
  JobTimeout,
  OutputValidationError,
  type PersistenceError,
  RollbackFailure,
  StateValidationError,
  StoredDataCorrupt
} from "../ActionError.ts"
import { ErrorEntry, Failure, type JobPhase, type JobStatus } from "../Deployment.ts"
import type {
  Checkpoint,
  CheckpointResult,
  DeploymentPatch,
  DeploymentStoreShape,
  FailureRow,
  Fence,
  JobPatch,
  Json,
  NewErrorRow,
  Snapshot
} from "../DeploymentStore.ts"
import { JobContext, type JobContextShape } from "../JobContext.ts"
import type * as State from "../State.ts"
import { describeCause, describeError, describeSchemaError, encodeOrUndefined, jsonCodec } from "./codec.ts"
import type { CompiledJob, Registration } from "./registration.ts"
import { runHooks, runRollbacks } from "./steps.ts"

/** A failure of a transactional step's body, kept apart from its transaction's own failure. */
class StepFailure {
  readonly error: unknown
  constructor(error: unknown) {
    this.error = error
  }
}

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

const findAbandon = (cause: Cause.Cause<unknown>): Abandon | undefined => {
  for (const reason of cause.reasons) {
    if (reason._tag === "Die" && reason.defect instanceof Abandon) return reason.defect
  }
  return undefined
}

interface StateCell extends State.Cell<unknown> {
  value: unknown
  dirty: boolean
}

/** The mutable state of one run. */
interface Run {
  readonly env: RunnerEnv
  readonly reg: Registration
  readonly handle: Handle
  readonly deploymentId: string
  readonly baseContext: Context.Context<never>
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

const now = Clock.currentTimeMillis

const abandonOnStoreFailure = <A, R>(
  run: Run,
  effect: Effect.Effect<A, PersistenceError | LeaseLost, R>
): Effect.Effect<A, never, R> =>
  Effect.catch(
    run.env.retryTransient(effect),
    (error) => Effect.die(new Abandon(error._tag === "LeaseLost" ? "lease_lost" : "persistence", error))
  )

/**
 * One atomic, fenced checkpoint. A lost lease or an unreachable store (after retries, unless `retry` is false, as
 * inside a transaction) becomes an `Abandon` defect; a value the store refuses to hold (`invalid`) fails the job:
 * retrying the deployment could never store it.
 */
const write = (
  run: Run,
  checkpoint: Omit<Checkpoint, "fence">,
  retry = true
): Effect.Effect<CheckpointResult, PersistenceError> => {
  const attempt = run.env.store.checkpoint({ ...checkpoint, fence: run.handle.fence })
  return Effect.uninterruptible(
    Effect.catch(
      retry ? run.env.retryTransient(attempt) : attempt,
      (error) =>
        error._tag === "PersistenceError" && error.reason === "invalid"
          ? Effect.fail(error)
          : Effect.die(new Abandon(error._tag === "LeaseLost" ? "lease_lost" : "persistence", error))
    )
  )
}

/** The state patch of a checkpoint: the encoded state when it changed since the last checkpoint. */
const encodeState = (run: Run, job: string): Effect.Effect<{ readonly state?: Json }, StateValidationError> => {
  const cell = run.cell
  const state = run.reg.state
  if (cell === undefined || state === undefined || !cell.dirty) return Effect.succeed({})
  return state.codec.encode(cell.value).pipe(
    Effect.map((encoded) => ({ state: encoded })),
    Effect.mapError((error) =>
      new StateValidationError({ action: run.reg.action.name, job, ...describeSchemaError(error) })
    )
  )
}

const errorRow = (job: CompiledJob, phase: JobPhase, error: unknown, at: number): NewErrorRow => {
  const { message, tag } = describeError(error)
  const detail = job.job.error === undefined ? undefined : encodeOrUndefined(job.job.error, error)
  return { job: job.job.name, phase, tag, message, detail, at }
}

const makeJobContext = (run: Run, job: CompiledJob, attempt: number): JobContextShape => {
  const name = job.job.name
  const fence = () => run.handle.fence
  const store = run.env.store
  return {
    deploymentId: run.deploymentId,
    application: run.reg.application,
    action: run.reg.action.name,
    job: name,
    jobIndex: job.index,
    attempt,
    idempotencyKey: `${run.deploymentId}/${name}`,
    get fencingToken() {
      return run.handle.fence.epoch
    },
    get phase() {
      return run.phase
    },
    setData: (key, schema, value) =>
      Effect.flatMap(
        Effect.mapError(
          jsonCodec(schema).encode(value),
          (error) =>
            new InvalidJobData({
              deploymentId: run.deploymentId,
              job: name,
              key,
              issue: describeSchemaError(error).issue
            })
        ),
        (encoded) => abandonOnStoreFailure(run, store.setJobData(fence(), name, key, encoded))
      ),
    getData: (key, schema, options) => {
      const owner = options?.job ?? name
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
    },
    recordError: (error) =>
      Effect.flatMap(now, (at) => {
        if (typeof error === "object" && error !== null) run.recorded.add(error)
        return abandonOnStoreFailure(run, store.appendErrors(fence(), [errorRow(job, run.phase, error, at)]))
      }),
    errors: (options) =>
      Effect.flatMap(
        abandonOnStoreFailure(
          run,
          store.errors(run.deploymentId, options?.currentJobOnly === true ? name : undefined)
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

const corrupt = (deploymentId: string, job: string | undefined, field: string, error: Schema.SchemaError) =>
  new StoredDataCorrupt({
    deploymentId,
    ...(job === undefined ? {} : { job }),
    field,
    issue: describeSchemaError(error).issue
  })

/** Provides a job function with its context: the registration's services, the state cell, and `JobContext`. */
const provideJob = <A, E, R>(run: Run, job: CompiledJob, attempt: number, effect: Effect.Effect<A, E, R>) =>
  Effect.provideContext(
    effect,
    Context.add(run.baseContext, JobContext, makeJobContext(run, job, attempt))
  ) as Effect.Effect<A, E, never>

/** Runs one attempt of a job: pre-hooks, execute, post-hooks, within the job's timeout. */
const attemptJob = (run: Run, compiled: CompiledJob, input: unknown): Effect.Effect<unknown, unknown> => {
  const job = compiled.job
  let effect: Effect.Effect<unknown, unknown, unknown> = Effect.suspend(() => {
    run.phase = "pre_hook"
    return runHooks(job.preHooks, input)
  }).pipe(
    Effect.flatMap((value) => {
      run.phase = "execute"
      return job.execute(value)
    }),
    Effect.flatMap((output) => {
      run.phase = "post_hook"
      return runHooks(job.postHooks, output)
    })
  )
  if (job.timeout !== undefined) {
    const timeout = job.timeout
    effect = Effect.timeoutOrElse(effect, {
      duration: timeout,
      orElse: () => Effect.fail(new JobTimeout({ job: job.name, timeout: Duration.format(Duration.fromInputUnsafe(timeout)) }))
    })
  }
  const attempt = run.attempts[compiled.index] ?? 1
  return provideJob(run, compiled, attempt, effect).pipe(
    Effect.withSpan("effect-actions.job", {
      attributes: { ...run.annotations, "job.name": job.name, "job.index": compiled.index, "job.attempt": attempt }
    }),
    Effect.annotateLogs({ job: job.name, attempt })
  )
}

/** Validates and encodes a job's output; `undefined`/`null` that the schema refuses is `JobNilOutput`. */
const encodeOutput = (run: Run, compiled: CompiledJob, output: unknown) =>
  Effect.mapError(compiled.output.encode(output), (error) =>
    output === undefined || output === null
      ? new JobNilOutput({ action: run.reg.action.name, job: compiled.job.name })
      : new OutputValidationError({ action: run.reg.action.name, job: compiled.job.name, ...describeSchemaError(error) }))

/** Validates the value handed to a job as its input: encoded to persist it, decoded as the job will see it. */
const prepareInput = (run: Run, compiled: CompiledJob, value: unknown, encoded: Json | undefined) => {
  const invalid = (error: Schema.SchemaError) =>
    new InputValidationError({ action: run.reg.action.name, job: compiled.job.name, ...describeSchemaError(error) })
  const json = encoded === undefined ? Effect.mapError(compiled.input.encode(value), invalid) : Effect.succeed(encoded)
  return Effect.flatMap(json, (json) =>
    Effect.map(Effect.mapError(compiled.input.decode(json), invalid), (input) => ({ json, input })))
}

/** Registers the rollback of a job that started, as a finalizer of the deployment's scope. */
const armRollback = (
  run: Run,
  scope: Scope.Scope,
  compiled: CompiledJob,
  input: unknown,
  output: { value: Option.Option<unknown> }
) => {
  run.armed = compiled.index
  return Scope.addFinalizerExit(scope, (exit) =>
    Exit.isSuccess(exit) || run.abandoned !== undefined || run.terminal
      ? Effect.void
      : rollbackStep(run, compiled, input, output.value))
}

/** Rolls back one job and checkpoints the step; the step of job 0 also writes the terminal status. */
const rollbackStep = (run: Run, compiled: CompiledJob, input: unknown, output: Option.Option<unknown>) =>
  Effect.gen(function*() {
    const { index, job } = compiled
    const failure = run.failure!
    const jobs: Array<JobPatch> = []
    const errors: Array<NewErrorRow> = []
    if (job.rollbacks.length > 0) {
      run.phase = "rollback"
      run.current = index
      const attempt = run.attempts[index] ?? 1
      const exit = yield* Effect.exit(
        provideJob(run, compiled, attempt, runRollbacks(job.rollbacks, { input, output, failure })).pipe(
          Effect.withSpan("effect-actions.rollback", {
            attributes: { ...run.annotations, "job.name": job.name, "job.index": index }
          }),
          Effect.annotateLogs({ job: job.name, phase: "rollback" })
        )
      )
      const abandon = Exit.isFailure(exit) ? findAbandon(exit.cause) : undefined
      if (abandon !== undefined) {
        run.abandoned = abandon
        return
      }
      const at = yield* now
      if (Exit.isFailure(exit)) {
        const described = describeCause(exit.cause)
        run.rollbackFailures.push(new RollbackFailure({ job: job.name, tag: described.tag, message: described.message }))
        errors.push({
          ...errorRow(compiled, "rollback", described.error, at),
          tag: described.tag,
          message: `rollback: ${described.message}`
        })
        jobs.push({ index, status: "rollback_failed", finishedAt: at })
        run.statuses[index] = "rollback_failed"
        yield* Effect.logWarning(`rollback of job "${job.name}" failed: ${described.message}`)
      } else {
        jobs.push({ index, status: "rolled_back", finishedAt: at })
        run.statuses[index] = "rolled_back"
      }
    } else if (index > 0) {
      // Nothing to undo: no write; the terminal write marks this job rolled back.
      return
    }
    yield* writeRollbackStep(run, index, jobs, errors)
  })

/**
 * Checkpoints one rollback step. The step of job 0 is the last: it also marks the jobs that had nothing to undo
 * and writes the terminal status.
 */
const writeRollbackStep = (run: Run, index: number, jobs: Array<JobPatch>, errors: ReadonlyArray<NewErrorRow>) =>
  Effect.gen(function*() {
    const at = yield* now
    const deployment: { -readonly [K in keyof DeploymentPatch]: DeploymentPatch[K] } = {}
    const state = yield* Effect.result(encodeState(run, run.reg.jobs[index]!.job.name))
    if (state._tag === "Success") Object.assign(deployment, state.success)
    if (index === 0) {
      for (const other of run.reg.jobs) {
        const status = run.statuses[other.index]
        const ran = status === "succeeded" || status === "failed" || status === "running"
        if (other.job.rollbacks.length === 0 && ran) {
          jobs.push({ index: other.index, status: "rolled_back", finishedAt: at })
          run.statuses[other.index] = "rolled_back"
        }
      }
      deployment.status = run.rollbackFailures.length > 0 ? "rollback_failed" : "rolled_back"
      deployment.releaseLease = true
    } else {
      deployment.currentJob = index - 1
    }
    const exit = yield* Effect.exit(write(run, { at, deployment, jobs, errors }))
    if (Exit.isFailure(exit)) {
      run.abandoned = findAbandon(exit.cause) ?? new Abandon("persistence", Cause.squash(exit.cause))
      return
    }
    if (run.cell !== undefined && state._tag === "Success") run.cell.dirty = false
    if (index === 0) run.terminal = true
  })

/** Classifies a failed forward run: an abandon, or the failure that starts a rollback. */
const classify = (run: Run, cause: Cause.Cause<unknown>): Abandon | { readonly failure: Failure; readonly error: unknown } => {
  const abandon = findAbandon(cause)
  if (abandon !== undefined) return abandon
  const compiled = run.reg.jobs[run.current]!
  const job = compiled.job
  if (Cause.hasInterruptsOnly(cause)) {
    const reason = run.handle.interruptReason
    if (reason !== "stop") return new Abandon(reason ?? "shutdown", undefined)
    const error = new ExecutionStopped({ deploymentId: run.deploymentId })
    return {
      error,
      failure: new Failure({ job: job.name, jobIndex: compiled.index, phase: run.phase, tag: error._tag, message: error.message, detail: Option.none() })
    }
  }
  const described = describeCause(cause)
  const detail = described.isFailure && job.error !== undefined ? encodeOrUndefined(job.error, described.error) : undefined
  return {
    error: described.error,
    failure: new Failure({
      job: job.name,
      jobIndex: compiled.index,
      phase: run.phase,
      tag: described.tag,
      message: described.message,
      detail: Option.fromUndefinedOr(detail)
    })
  }
}

const failureRow = (failure: Failure): FailureRow => Schema.encodeSync(Failure)(failure)

const failedOutcome = (run: Run): Outcome => {
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

const abandoned = (run: Pick<Run, "env" | "handle">, abandon: Abandon): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    if (abandon.reason === "shutdown") {
      // Give the lease up so that another process can resume the deployment at once.
      yield* Effect.ignore(run.env.store.release(run.handle.fence, yield* now))
    }
    if (abandon.reason !== "shutdown") {
      yield* Effect.logWarning(`deployment run stopped without finishing (${abandon.reason})`, abandon.error)
    }
    return { _tag: "Abandoned", reason: abandon.reason, error: abandon.error } as const
  })

/** Decodes a stored value of a job, or abandons the run as corrupt. */
const decodeStored = (
  deploymentId: string,
  codec: { readonly decode: (json: unknown) => Effect.Effect<unknown, Schema.SchemaError> },
  value: Json | undefined,
  job: string | undefined,
  field: string
) =>
  Effect.mapError(codec.decode(value), (error) => new Abandon("corrupt", corrupt(deploymentId, job, field, error)))

/** Makes the state of a run from a stored snapshot. */
const makeRun = (env: RunnerEnv, reg: Registration, snapshot: Snapshot, handle: Handle, state: unknown): Run => {
  const deployment = snapshot.deployment
  let cell: StateCell | undefined
  let baseContext = reg.context
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
    baseContext = Context.add(baseContext, reg.state.definition.service, stateCell)
  }
  return {
    env,
    reg,
    handle,
    deploymentId: deployment.id,
    baseContext,
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
}

/**
 * Runs a deployment from a snapshot until it finishes or the local run is abandoned, and publishes the outcome.
 * `fresh` tells that the snapshot was just created (its first job's attempt is already recorded).
 */
export const runDeployment = (
  env: RunnerEnv,
  reg: Registration,
  snapshot: Snapshot,
  handle: Handle,
  fresh: boolean
): Effect.Effect<void> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const deployment = snapshot.deployment
      const outcome = yield* Effect.catchDefect(
        Effect.gen(function*() {
          const state = reg.state === undefined
            ? undefined
            : deployment.state === undefined
            ? reg.state.definition.initial
            : yield* Effect.orDie(decodeStored(deployment.id, reg.state.codec, deployment.state, undefined, "state"))
          const run = makeRun(env, reg, snapshot, handle, state)
          return yield* (deployment.status === "running"
            ? forward(run, snapshot, fresh, restore)
            : backward(run, snapshot))
        }),
        (defect) => defect instanceof Abandon ? parkCorrupt({ env, handle }, defect) : Effect.die(defect)
      )
      yield* Deferred.succeed(handle.outcome, outcome)
    })
  ).pipe(
    Effect.withSpan("effect-actions.deployment", {
      attributes: {
        "deployment.id": snapshot.deployment.id,
        "deployment.application": snapshot.deployment.application,
        "deployment.action": snapshot.deployment.action
      }
    }),
    Effect.annotateLogs({
      deploymentId: snapshot.deployment.id,
      application: snapshot.deployment.application,
      action: snapshot.deployment.action
    })
  )

const forward = (
  run: Run,
  snapshot: Snapshot,
  fresh: boolean,
  restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const { jobs: compiledJobs } = run.reg
    const scope = yield* Scope.make()
    const start = snapshot.deployment.currentJob
    const lastIndex = compiledJobs.length - 1

    const prepared = yield* Effect.result(Effect.gen(function*() {
      // Re-arm the rollbacks of the jobs that completed before a resume.
      for (let index = 0; index < start; index++) {
        const compiled = compiledJobs[index]!
        const row = snapshot.jobs[index]!
        const input = yield* decodeStored(run.deploymentId, compiled.input, row.input, compiled.job.name, "input")
        const output = yield* decodeStored(run.deploymentId, compiled.output, row.output, compiled.job.name, "output")
        yield* armRollback(run, scope, compiled, input, { value: Option.some(output) })
      }
      const compiled = compiledJobs[start]!
      return yield* decodeStored(run.deploymentId, compiled.input, snapshot.jobs[start]!.input, compiled.job.name, "input")
    }))
    if (prepared._tag === "Failure") {
      yield* Scope.close(scope, Exit.void)
      return yield* parkCorrupt(run, prepared.failure)
    }

    if (!fresh) {
      const attempts = (run.attempts[start] ?? 0) + 1
      run.attempts[start] = attempts
      const at = yield* now
      const result = yield* write(run, {
        at,
        deployment: {},
        jobs: [{ index: start, status: "running", attempts, startedAt: at }],
        errors: []
      }).pipe(Effect.catch((error) => Effect.die(new Abandon("persistence", error))))
      run.stopRequested = run.stopRequested || result.stopRequested
    }

    /**
     * Runs job `index` and writes its checkpoint: the job's success and the next job's start, or the deployment's
     * success after the last job. A transactional job runs with its checkpoint in one store transaction.
     */
    const step = (index: number, input: unknown, output: { value: Option.Option<unknown> }) => {
      const compiled = compiledJobs[index]!
      const transaction = compiled.job.transactional ? run.env.store.transaction : undefined
      const body = Effect.gen(function*() {
        const value = yield* restore(attemptJob(run, compiled, input))
        run.phase = "output"
        const encoded = yield* encodeOutput(run, compiled, value)
        // A job's side effects happened: its rollback gets its output, whatever happens to the checkpoint.
        // A transactional job's writes are undone with its transaction when the checkpoint does not commit.
        if (transaction === undefined) output.value = Option.some(value)
        const at = yield* now
        const state = yield* encodeState(run, compiled.job.name)
        if (index === lastIndex) {
          yield* write(run, {
            at,
            deployment: { ...state, status: "succeeded", output: encoded, releaseLease: true },
            jobs: [{ index, status: "succeeded", output: encoded, finishedAt: at }],
            errors: []
          }, transaction === undefined)
          return { _tag: "Done", value } as const
        }
        const done: JobPatch = { index, status: "succeeded", output: encoded, finishedAt: at }
        run.unsaved = done
        const nextJob = compiledJobs[index + 1]!
        run.current = index + 1
        run.phase = "input"
        const next = yield* prepareInput(run, nextJob, value, compiled.outputIsNextInput ? encoded : undefined)
        const result = yield* write(run, {
          at,
          deployment: { ...state, currentJob: index + 1 },
          jobs: [done, { index: index + 1, status: "running", input: next.json, attempts: 1, startedAt: at }],
          errors: []
        }, transaction === undefined)
        return { _tag: "Next", value, next: next.input, stateWritten: state.state !== undefined, result } as const
      })
      if (transaction === undefined) return body
      // Failures of the body keep their meaning; a failure of the transaction itself (its COMMIT) leaves the
      // outcome unknown, so the local run stops and the deployment resumes from its last checkpoint.
      return transaction(Effect.mapError(body, (error) => new StepFailure(error))).pipe(
        Effect.catch((error) =>
          error instanceof StepFailure ? Effect.fail(error.error) : Effect.die(new Abandon("persistence", error))
        )
      )
    }

    const loop = Effect.gen(function*() {
      let index = start
      let input = prepared.success
      while (true) {
        const compiled = compiledJobs[index]!
        const output = { value: Option.none<unknown>() }
        yield* armRollback(run, scope, compiled, input, output)
        run.current = index
        if (run.stopRequested) {
          run.phase = "input"
          run.handle.interruptReason = "stop"
          return yield* Effect.interrupt
        }
        const outcome = yield* step(index, input, output)
        output.value = Option.some(outcome.value)
        if (outcome._tag === "Done") {
          run.terminal = true
          run.statuses[index] = "succeeded"
          return outcome.value
        }
        if (run.cell !== undefined && outcome.stateWritten) run.cell.dirty = false
        run.unsaved = undefined
        run.attempts[index + 1] = 1
        run.statuses[index] = "succeeded"
        run.statuses[index + 1] = "running"
        run.stopRequested = run.stopRequested || outcome.result.stopRequested
        index++
        input = outcome.next
      }
    })

    const exit = yield* Effect.exit(loop)
    if (Exit.isSuccess(exit) || run.terminal) {
      yield* Scope.close(scope, Exit.void)
      return { _tag: "Succeeded", output: Exit.isSuccess(exit) ? exit.value : undefined } as const
    }
    const classified = classify(run, exit.cause)
    if (classified instanceof Abandon) {
      run.abandoned = classified
      yield* Scope.close(scope, exit)
      return yield* abandoned(run, classified)
    }
    run.failure = classified.failure
    run.failureError = classified.error
    const at = yield* now
    const error = classified.error
    const alreadyRecorded = typeof error === "object" && error !== null && run.recorded.has(error)
    const compiled = compiledJobs[run.current]!
    const failedPatch: JobPatch = { index: run.current, status: "failed", finishedAt: at }
    const stateResult = yield* Effect.result(encodeState(run, compiled.job.name))
    const failedWrite = yield* Effect.exit(write(run, {
      at,
      deployment: {
        ...(stateResult._tag === "Success" ? stateResult.success : {}),
        status: "rolling_back",
        currentJob: run.armed,
        failure: failureRow(classified.failure)
      },
      jobs: run.unsaved === undefined ? [failedPatch] : [run.unsaved, failedPatch],
      errors: alreadyRecorded ? [] : [{
        job: classified.failure.job,
        phase: classified.failure.phase,
        tag: classified.failure.tag,
        message: classified.failure.message,
        detail: Option.getOrUndefined(classified.failure.detail),
        at
      }]
    }))
    if (Exit.isFailure(failedWrite)) {
      run.abandoned = findAbandon(failedWrite.cause) ?? new Abandon("persistence", Cause.squash(failedWrite.cause))
      yield* Scope.close(scope, exit)
      return yield* abandoned(run, run.abandoned)
    }
    if (run.unsaved !== undefined) run.statuses[run.unsaved.index] = "succeeded"
    run.statuses[run.current] = "failed"
    if (run.cell !== undefined && stateResult._tag === "Success" && stateResult.success.state !== undefined) {
      run.cell.dirty = false
    }
    yield* Effect.logInfo(`job "${classified.failure.job}" failed (${classified.failure.tag}): rolling back`)
    yield* Scope.close(scope, exit)
    return run.abandoned === undefined ? failedOutcome(run) : yield* abandoned(run, run.abandoned)
  })

/** Continues the rollback of a deployment found `rolling_back`, from the job where it stopped. */
const backward = (run: Run, snapshot: Snapshot): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const deployment = snapshot.deployment
    const prepared = yield* Effect.result(Effect.gen(function*() {
      if (deployment.failure === undefined) {
        return yield* Effect.fail(new Abandon("corrupt", new StoredDataCorrupt({
          deploymentId: deployment.id,
          field: "failure",
          issue: "a rolling back deployment has no recorded failure"
        })))
      }
      run.failure = yield* Effect.mapError(
        Schema.decodeUnknownEffect(Failure)(deployment.failure),
        (error) => new Abandon("corrupt", corrupt(run.deploymentId, undefined, "failure", error))
      )
      for (let index = 0; index <= deployment.currentJob; index++) {
        const compiled = run.reg.jobs[index]!
        const row = snapshot.jobs[index]!
        if (row.status !== "succeeded" && row.status !== "failed" && row.status !== "running") continue
        const input = yield* decodeStored(run.deploymentId, compiled.input, row.input, compiled.job.name, "input")
        const output = row.status === "succeeded"
          ? Option.some(yield* decodeStored(run.deploymentId, compiled.output, row.output, compiled.job.name, "output"))
          : Option.none()
        yield* armRollback(run, scope, compiled, input, { value: output })
      }
      // Rollbacks that failed before the resume still decide the terminal status.
      for (const row of snapshot.jobs) {
        if (row.status === "rollback_failed") {
          run.rollbackFailures.push(new RollbackFailure({ job: row.name, tag: "RollbackFailed", message: "failed before the deployment was resumed" }))
        }
      }
    }))
    if (prepared._tag === "Failure") {
      yield* Scope.close(scope, Exit.void)
      return yield* parkCorrupt(run, prepared.failure)
    }
    run.failureError = run.failure
    if (run.armed < 0) {
      // Every rollback was done before the resume: only the terminal write is missing.
      yield* writeRollbackStep(run, 0, [], [])
    }
    yield* Scope.close(scope, Exit.fail(run.failure))
    return run.abandoned === undefined ? failedOutcome(run) : yield* abandoned(run, run.abandoned)
  })

/** Reports corrupt stored data and keeps the lease (so the deployment is not claimed again and again). */
const parkCorrupt = (run: Pick<Run, "env" | "handle">, abandon: Abandon): Effect.Effect<Outcome> =>
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
