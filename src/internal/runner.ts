/**
 * The execution of one deployment: forward through its jobs, checkpointing every boundary, and backward through
 * its rollbacks (`rollback.ts`), which are finalizers of the deployment's scope.
 *
 * A run never fails: it writes every outcome to the store and publishes it on its handle. It ends in one of
 * three ways: succeeded, failed (rolled back), or abandoned: the local run stopped without touching the
 * deployment any further (shutdown, lease lost, store unavailable, corrupt data), leaving the deployment for a
 * later resume by whichever process holds its lease next.
 *
 * What each checkpoint holds, and what the deployment's progress is after it, is computed by the transitions
 * (`transitions.ts`); this file runs the jobs, encodes their values, and writes what the transitions computed.
 *
 * @internal
 */
import { Cause, Clock, Deferred, Effect, Exit, Option, Schema, Scope } from "effect"
import {
  ExecutionStopped,
  InputValidationError,
  JobNilOutput,
  OutputValidationError,
  ResumeLimitExceeded
} from "../ActionError.ts"
import { Failure } from "../Deployment.ts"
import type { PersistenceError } from "../ActionError.ts"
import type { Checkpoint, CheckpointResult, DeploymentStoreShape, FailureRow, Json, Snapshot } from "../DeploymentStore.ts"
import { describeCause, describeSchemaError, encodeOrUndefined } from "./codec.ts"
import { corruptJobRecords } from "./jobRecords.ts"
import { attemptJob, type Restore } from "./attempt.ts"
import { recordJobFailure, startRun } from "./metrics.ts"
import { makeRun } from "./runContext.ts"
import { spanned } from "./spanned.ts"
import type { CompiledJob, Registration } from "./registration.ts"
import { armRollback, backward } from "./rollback.ts"
import {
  Abandon,
  abandoned,
  abandonOf,
  committed,
  decodeStored,
  ended,
  encodeState,
  failedOutcome,
  findAbandon,
  type Handle,
  type LaunchKind,
  type Outcome,
  parkCorrupt,
  type Run,
  type RunnerEnv,
  timeOf,
  transition,
  unstorable,
  write
} from "./run.ts"
import { logText, storableJson } from "./storable.ts"
import type { JobFailed, Next } from "./transitions.ts"

export { Abandon } from "./run.ts"
export type { AbandonReason, Handle, Outcome, RunnerEnv } from "./run.ts"

/** A failure of a transactional step's body, kept apart from its transaction's own failure. */
class StepFailure {
  readonly error: unknown
  constructor(error: unknown) {
    this.error = error
  }
}

/** Validates and encodes a job's output; `undefined`/`null` that the schema refuses is `JobNilOutput`. */
const encodeOutput = (run: Run, compiled: CompiledJob, output: unknown) =>
  Effect.mapErrorEager(compiled.output.encode(output), (error) =>
    output === undefined || output === null
      ? new JobNilOutput({ action: run.reg.action.name, job: compiled.job.name })
      : new OutputValidationError({ action: run.reg.action.name, job: compiled.job.name, ...describeSchemaError(error) }))

/** Validates the value handed to a job as its input: encoded to persist it, decoded as the job will see it. */
const prepareInput = (run: Run, compiled: CompiledJob, value: unknown, encoded: Json | undefined) => {
  const invalid = (error: Schema.SchemaError) =>
    new InputValidationError({ action: run.reg.action.name, job: compiled.job.name, ...describeSchemaError(error) })
  const json = encoded === undefined ? Effect.mapErrorEager(compiled.input.encode(value), invalid) : Exit.succeed(encoded)
  return Effect.flatMapEager(json, (json) =>
    Effect.mapEager(Effect.mapErrorEager(compiled.input.decode(json), invalid), (input) => ({ json, input })))
}

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
  // What is recorded is made storable: recording a failure must never fail because of its content.
  return {
    error: described.error,
    failure: new Failure({
      job: job.name,
      jobIndex: compiled.index,
      phase: run.phase,
      tag: logText(described.tag),
      message: logText(described.message),
      detail: Option.fromUndefinedOr(detail === undefined ? undefined : storableJson(detail))
    })
  }
}

const failureRow = (failure: Failure): FailureRow => Schema.encodeSync(Failure)(failure)

/**
 * Runs a deployment from a snapshot until it finishes or the local run is abandoned, publishes the outcome and
 * returns it. `kind` tells how the run came to be (`LaunchKind`): a `created` or `takenOver` deployment has its
 * current job's attempt recorded already; a `resumed` one has it recorded here.
 */
export const runDeployment = (
  env: RunnerEnv,
  reg: Registration,
  snapshot: Snapshot,
  handle: Handle,
  kind: LaunchKind
): Effect.Effect<Outcome> => {
  const deployment = snapshot.deployment
  return spanned({
    name: "effect-actions.deployment",
    attributes: {
      "deployment.id": deployment.id,
      "deployment.application": deployment.application,
      "deployment.action": deployment.action
    },
    annotations: { deploymentId: deployment.id, application: deployment.application, action: deployment.action }
  }, (fiber, atEnd) => {
    const metrics = startRun(reg, kind === "created", fiber)
    atEnd(metrics.end)
    const clock = fiber.getRef(Clock.Clock)
    return Effect.uninterruptibleMask((restore) =>
      Effect.catchDefect(
        beginRun(env, reg, snapshot, handle, kind !== "resumed", restore, clock),
        // A defect left here is the runtime's own (or a store's that died outside a checkpoint): the local run stops,
        // and the deployment resumes from its last checkpoint once its lease lapses; awaiters are told, never left.
        (defect) => parkCorrupt({ env, handle }, defect instanceof Abandon ? defect : new Abandon("defect", defect))
      ).pipe(Effect.flatMap((outcome) => {
        metrics.outcome(outcome)
        return Effect.as(Deferred.succeed(handle.outcome, outcome), outcome)
      }))
    )
  })
}

/** Checks the stored job records, decodes the state, and runs the deployment forward or backward. */
const beginRun = (
  env: RunnerEnv,
  reg: Registration,
  snapshot: Snapshot,
  handle: Handle,
  fresh: boolean,
  restore: Restore,
  clock: Clock.Clock
): Effect.Effect<Outcome> => {
  const deployment = snapshot.deployment
  // Records a store read back in another shape than the runtime relies on park the deployment.
  const corrupt = corruptJobRecords(deployment.id, snapshot.jobs, reg.jobs)
  if (corrupt !== undefined) return Effect.die(new Abandon("corrupt", corrupt))
  const state = reg.state === undefined
    ? Exit.void
    : deployment.state === undefined
    ? Exit.succeed(reg.state.definition.initial)
    : Effect.orDie(decodeStored(deployment.id, reg.state.codec, deployment.state, undefined, "state"))
  return Effect.flatMapEager(state, (state) => {
    const run = makeRun(env, reg, snapshot, handle, state, clock)
    return deployment.status === "running" ? forward(run, snapshot, fresh, restore) : backward(run, snapshot)
  })
}

/** Runs a deployment found `running` from its current job, and rolls it back (or pauses it) when a job fails. */
const forward = (run: Run, snapshot: Snapshot, fresh: boolean, restore: Restore): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const scope = Scope.makeUnsafe()
    const start = run.progress.currentJob
    const rearmed = rearm(run, scope, snapshot, start)
    const prepared = Exit.isExit(rearmed) ? rearmed as Exit.Exit<unknown, Abandon> : yield* Effect.exit(rearmed)
    if (Exit.isFailure(prepared)) {
      yield* Scope.close(scope, Exit.void)
      const abandon = Cause.findErrorOption(prepared.cause)
      // A defect (no typed failure) goes on as one.
      if (abandon._tag === "None") return yield* Effect.failCause(prepared.cause as Cause.Cause<never>)
      return yield* parkCorrupt(run, abandon.value)
    }
    // Resumed too often without progress: the job is failed instead of being run again (then rolled back).
    const overLimit = !fresh && run.handle.resumes > run.env.maxResumes
    if (!fresh && !overLimit) yield* countAttempt(run)
    const exit = yield* Effect.exit(runJobs(run, scope, restore, prepared.value, overLimit))
    if (Exit.isSuccess(exit) || ended(run)) {
      yield* Scope.close(scope, Exit.void)
      return { _tag: "Succeeded", output: Exit.isSuccess(exit) ? exit.value : undefined } as const
    }
    return yield* failed(run, scope, exit)
  })

/** Re-arms the rollbacks of the jobs that completed before a resume; returns the current job's input. */
const rearm = (run: Run, scope: Scope.Scope, snapshot: Snapshot, start: number) => {
  const compiled = run.reg.jobs[start]!
  const input = decodeStored(run.deploymentId, compiled.input, snapshot.jobs[start]!.input, compiled.job.name, "input")
  // Nothing to re-arm before the first job: the input alone (an `Exit` for most schemas).
  if (start === 0) return input
  return Effect.andThen(rearmCompleted(run, scope, snapshot, start), input)
}

/** Re-arms the rollbacks of jobs `0 .. start - 1`, from their stored input and output. */
const rearmCompleted = (run: Run, scope: Scope.Scope, snapshot: Snapshot, start: number) =>
  Effect.gen(function*() {
    const compiledJobs = run.reg.jobs
    for (let index = 0; index < start; index++) {
      const compiled = compiledJobs[index]!
      const row = snapshot.jobs[index]!
      const input = yield* decodeStored(run.deploymentId, compiled.input, row.input, compiled.job.name, "input")
      const output = yield* decodeStored(run.deploymentId, compiled.output, row.output, compiled.job.name, "output")
      yield* armRollback(run, scope, compiled, input, { value: Option.some(output) })
    }
  })

/** Records the attempt of the current job that a resume starts (a write that is no progress). */
const countAttempt = (run: Run) =>
  Effect.gen(function*() {
    const planned = yield* transition(run, { _tag: "Resumed", at: timeOf(run) })
    const result = yield* write(run, planned.checkpoint, { progress: false }).pipe(
      Effect.catch((error) => Effect.die(new Abandon("persistence", error)))
    )
    committed(run, planned, result)
  })

/** Runs the jobs from the current one, checkpointing every boundary, until the last one succeeded. */
const runJobs = (run: Run, scope: Scope.Scope, restore: Restore, first: unknown, overLimit: boolean) =>
  Effect.gen(function*() {
    const start = run.progress.currentJob
    let index = start
    let input = first
    while (true) {
      const compiled = run.reg.jobs[index]!
      const output = { value: Option.none<unknown>() }
      yield* armRollback(run, scope, compiled, input, output)
      run.current = index
      if (run.progress.stopRequested) {
        run.phase = "input"
        run.handle.interruptReason = "stop"
        return yield* Effect.interrupt
      }
      if (overLimit && index === start) {
        run.phase = "resume"
        return yield* new ResumeLimitExceeded({
          deploymentId: run.deploymentId,
          job: compiled.job.name,
          resumes: run.handle.resumes,
          limit: run.env.maxResumes
        })
      }
      // A store without transactions runs transactional jobs like the others (`DeploymentStore.transaction`).
      const transaction = compiled.job.transactional ? run.env.store.transaction : undefined
      const outcome = transaction === undefined
        ? yield* step(run, restore, compiled, input, output, false)
        : yield* transactionalStep(transaction, run, restore, compiled, input, output)
      output.value = Option.some(outcome.value)
      committed(run, outcome.planned, outcome.result)
      if (outcome._tag === "Done") return outcome.value
      if (run.cell !== undefined && outcome.stateWritten) run.cell.dirty = false
      run.unsaved = undefined
      index++
      input = outcome.next
    }
  })

/**
 * Runs a job and writes its checkpoint: the job's success and the next job's start, or the deployment's success
 * after the last job. A generator that the forward loop runs inline (`yield*`): no fiber step of its own.
 */
function* step(
  run: Run,
  restore: Restore,
  compiled: CompiledJob,
  input: unknown,
  output: { value: Option.Option<unknown> },
  transactional: boolean
) {
  const index = compiled.index
  const value = yield* attemptJob(run, compiled, input, restore)
  run.phase = "output"
  const encoded = yield* encodeOutput(run, compiled, value)
  // A job's side effects happened: its rollback gets its output, whatever happens to the checkpoint.
  // A transactional job's writes are undone with its transaction when the checkpoint does not commit.
  if (!transactional) output.value = Option.some(value)
  const at = timeOf(run)
  const state = yield* encodeState(run, compiled.job.name)
  /** A checkpoint the store refuses fails this job: its output (or the state it set) can never be stored. */
  const options = (checkpoint: Omit<Checkpoint, "fence">) => ({
    retry: !transactional,
    refused: (error: PersistenceError) => {
      run.current = index
      run.unsaved = undefined
      run.phase = "output"
      return unstorable(run, compiled.job.name, checkpoint, error)
    }
  })
  if (index === run.reg.jobs.length - 1) {
    const planned = yield* transition(run, { _tag: "JobSucceeded", at, index, output: encoded, ...state })
    const result = yield* write(run, planned.checkpoint, options(planned.checkpoint))
    return { _tag: "Done", value, planned, result } as const
  }
  run.unsaved = { output: encoded, finishedAt: at }
  run.current = index + 1
  run.phase = "input"
  const nextJob = run.reg.jobs[index + 1]!
  const next = yield* prepareInput(run, nextJob, value, compiled.outputIsNextInput ? encoded : undefined)
  const planned = yield* transition(run, {
    _tag: "JobSucceeded",
    at,
    index,
    output: encoded,
    next: { input: next.json },
    ...state
  })
  const result = yield* write(run, planned.checkpoint, options(planned.checkpoint))
  return { _tag: "Next", value, next: next.input, stateWritten: state.state !== undefined, planned, result } as const
}

/**
 * A transactional job: it runs with its checkpoint in one store transaction. Failures of the body keep their
 * meaning; a failure of the transaction itself (its COMMIT) leaves the outcome unknown, so the local run stops and
 * the deployment resumes from its last checkpoint.
 */
const transactionalStep = (
  transaction: NonNullable<DeploymentStoreShape["transaction"]>,
  run: Run,
  restore: Restore,
  compiled: CompiledJob,
  input: unknown,
  output: { value: Option.Option<unknown> }
) =>
  transaction(
    Effect.mapError(Effect.gen(() => step(run, restore, compiled, input, output, true)), (error) => new StepFailure(error))
  ).pipe(
    Effect.catch((error) =>
      error instanceof StepFailure ? Effect.fail(error.error) : Effect.die(new Abandon("persistence", error))
    )
  )

/**
 * A failed forward run: abandoned, or its failure checkpointed and the deployment paused (the failure policy) or
 * rolled back (the scope closes with the failure, which runs the armed rollbacks).
 */
const failed = (run: Run, scope: Scope.Closeable, exit: Exit.Failure<unknown, unknown>): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const classified = classify(run, exit.cause)
    if (classified instanceof Abandon) {
      run.abandoned = classified
      yield* Scope.close(scope, exit)
      return yield* abandoned(run, classified)
    }
    run.failure = classified.failure
    run.failureError = classified.error
    const at = timeOf(run)
    const error = classified.error
    const compiled = run.reg.jobs[run.current]!
    yield* recordJobFailure(run.reg, compiled, classified.failure)
    const stateResult = yield* Effect.result(encodeState(run, compiled.job.name))
    const event: JobFailed = {
      _tag: "JobFailed",
      at,
      index: run.current,
      failure: failureRow(classified.failure),
      // The failure policy: a pause leaves the rollbacks armed in the store for an operator; a stop always rolls back.
      onFailure: (compiled.job.onFailure ?? run.reg.action.onFailure) === "pause" ? "pause" : "rollback",
      stopped: error instanceof ExecutionStopped,
      logged: typeof error === "object" && error !== null && run.recorded.has(error),
      ...(stateResult._tag === "Success" ? stateResult.success : {}),
      previous: run.unsaved,
      stopRequest: { id: crypto.randomUUID(), by: run.handle.fence.owner }
    }
    const failedWrite = yield* Effect.exit(writeFailure(run, event))
    if (Exit.isFailure(failedWrite)) {
      run.abandoned = abandonOf(failedWrite.cause)
      yield* Scope.close(scope, exit)
      return yield* abandoned(run, run.abandoned)
    }
    committed(run, failedWrite.value.planned)
    if (run.cell !== undefined && stateResult._tag === "Success" && stateResult.success.state !== undefined) {
      run.cell.dirty = false
    }
    if (run.progress.status === "paused") {
      // Nothing is rolled back: the scope closes as a success, so no rollback finalizer runs.
      yield* Effect.logWarning(
        `job "${classified.failure.job}" failed (${classified.failure.tag}): paused for an operator (retry, rollback or stop)`
      )
      yield* Scope.close(scope, Exit.void)
      // A stop asked while the pause was being written is carried out by the runtime (`stopRequested`).
      return { _tag: "Paused", failure: classified.failure, stopRequested: failedWrite.value.result.stopRequested } as const
    }
    yield* Effect.logInfo(`job "${classified.failure.job}" failed (${classified.failure.tag}): rolling back`)
    yield* Scope.close(scope, exit)
    return run.abandoned === undefined ? failedOutcome(run) : yield* abandoned(run, run.abandoned)
  })

/**
 * Writes a job's failure. What is recorded is storable by now. A refusal left is the state's (then left as last
 * stored), or the output of a job that succeeded just before the failure (then not recorded: that job stays
 * `running`, and its rollback gets no output).
 */
const writeFailure = (
  run: Run,
  event: JobFailed
): Effect.Effect<{ readonly planned: Next; readonly result: CheckpointResult }, PersistenceError> => {
  const attempt = (event: JobFailed) =>
    Effect.flatMap(transition(run, event), (planned) =>
      Effect.map(write(run, planned.checkpoint), (result) => ({ planned, result })))
  const { state: _state, ...withoutState } = event
  return Effect.catch(attempt(event), () => {
    if (run.cell !== undefined) run.cell.dirty = false
    return Effect.catch(attempt(withoutState), (error) => {
      if (withoutState.previous === undefined) return Effect.fail(error)
      run.unsaved = undefined
      return attempt({ ...withoutState, previous: undefined })
    })
  })
}
