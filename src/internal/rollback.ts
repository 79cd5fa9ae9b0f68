/**
 * The backward half of a run: each job's rollback is a finalizer of the deployment's scope, run last-in-first-out
 * and uninterruptibly when the scope closes with a failure, and each rollback step is one checkpoint, as the
 * transitions (`transitions.ts`) compute it.
 *
 * @internal
 */
import { Effect, Exit, Option, Schema, Scope } from "effect"
import { ResumeLimitExceeded, RollbackFailure, StoredDataCorrupt } from "../ActionError.ts"
import { Failure } from "../Deployment.ts"
import type { Json, Snapshot } from "../DeploymentStore.ts"
import { describeCause, encodeOrUndefined } from "./codec.ts"
import { recordRollback } from "./metrics.ts"
import type { CompiledJob } from "./registration.ts"
import {
  Abandon,
  abandoned,
  abandonOf,
  committed,
  corrupt,
  decodeStored,
  ended,
  encodeState,
  failedOutcome,
  findAbandon,
  type Outcome,
  parkCorrupt,
  provideJob,
  type Run,
  timeOf,
  transition,
  unstorable,
  write
} from "./run.ts"
import { runRollbacks } from "./steps.ts"
import { logText } from "./storable.ts"
import { owedRollbacks, type RollbackStep } from "./transitions.ts"

/** Registers the rollback of a job that started, as a finalizer of the deployment's scope. */
export const armRollback = (
  run: Run,
  scope: Scope.Scope,
  compiled: CompiledJob,
  input: unknown,
  output: { value: Option.Option<unknown> },
  /** Set when this rollback must not run again (resumed too often at it): it is recorded as failed with this. */
  skip?: ResumeLimitExceeded
) => {
  return Scope.addFinalizerExit(scope, (exit) =>
    Exit.isSuccess(exit) || run.abandoned !== undefined || ended(run)
      ? Effect.void
      : rollbackStep(run, compiled, input, output.value, skip))
}

/** Rolls back one job and checkpoints the step; the step of job 0 also writes the terminal status. */
export const rollbackStep = (
  run: Run,
  compiled: CompiledJob,
  input: unknown,
  output: Option.Option<unknown>,
  skip?: ResumeLimitExceeded
) =>
  Effect.gen(function*() {
    const { index, job } = compiled
    if (job.rollbacks.length === 0) {
      // Nothing to undo: no write; the terminal write marks this job rolled back.
      if (index > 0) return
      return yield* writeRollbackStep(run, 0, (at, state) => ({ _tag: "RollbackFinished", at, ...state }))
    }
    const failure = run.failure!
    run.phase = "rollback"
    run.current = index
    const startedAt = timeOf(run)
    const exit = skip !== undefined ? Exit.fail(skip) : yield* Effect.exit(
      provideJob(run, runRollbacks(job.rollbacks, { input, output, failure })).pipe(
        Effect.withSpan("effect-actions.rollback", {
          attributes: { ...run.annotations, "job.name": job.name, "job.index": index }
        }, { captureStackTrace: false }),
        Effect.annotateLogs({ job: job.name, phase: "rollback" })
      )
    )
    const abandon = Exit.isFailure(exit) ? findAbandon(exit.cause) : undefined
    if (abandon !== undefined) {
      run.abandoned = abandon
      return
    }
    yield* recordRollback(run.reg, compiled, exit, skip !== undefined)
    const rollback = { startedAt, finishedAt: timeOf(run) }
    if (Exit.isSuccess(exit)) {
      return yield* writeRollbackStep(run, index, (at, state) => ({ _tag: "RollbackStepDone", at, index, rollback, ...state }))
    }
    const described = describeCause(exit.cause)
    const tag = logText(described.tag)
    const message = logText(described.message)
    const detail: Json | undefined = job.error === undefined ? undefined : encodeOrUndefined(job.error, described.error)
    run.rollbackFailures.push(new RollbackFailure({ job: job.name, tag, message }))
    yield* Effect.logWarning(`rollback of job "${job.name}" failed: ${message}`)
    yield* writeRollbackStep(run, index, (at, state) => ({
      _tag: "RollbackStepFailed",
      at,
      index,
      rollback,
      error: { tag, message, detail },
      ...state
    }))
  })

/**
 * Checkpoints one rollback step, made at the time of the write with the state to write. The step of job 0 is the
 * last: it also marks the jobs that had nothing to undo and writes the terminal status. A step the store refuses
 * (the state a rollback set, most likely) is recorded as a failed rollback, without the state, and the earlier
 * rollbacks still run.
 */
export const writeRollbackStep = (
  run: Run,
  index: number,
  stepOf: (at: number, state: { readonly state?: Json }) => RollbackStep
) =>
  Effect.gen(function*() {
    const at = timeOf(run)
    const state = yield* Effect.result(encodeState(run, run.reg.jobs[index]!.job.name))
    const step = stepOf(at, state._tag === "Success" ? state.success : {})
    const planned = yield* transition(run, step)
    const exit = yield* Effect.exit(Effect.catch(Effect.as(write(run, planned.checkpoint), planned), (error) => {
      const refusal = unstorable(run, run.reg.jobs[index]!.job.name, planned.checkpoint, error)
      if (run.cell !== undefined) run.cell.dirty = false
      run.rollbackFailures.push(new RollbackFailure({ job: refusal.job, tag: refusal._tag, message: refusal.message }))
      return Effect.flatMap(
        transition(run, { _tag: "RollbackStepRefused", step, refusal: { tag: refusal._tag, message: refusal.message } }),
        (fallback) => Effect.as(write(run, fallback.checkpoint), fallback)
      )
    }))
    if (Exit.isFailure(exit)) {
      run.abandoned = abandonOf(exit.cause)
      return
    }
    if (run.cell !== undefined && state._tag === "Success") run.cell.dirty = false
    committed(run, exit.value)
  })

/** Continues the rollback of a deployment found `rolling_back`, from the job where it stopped. */
export const backward = (run: Run, snapshot: Snapshot): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const prepared = yield* Effect.result(armOwed(run, scope, snapshot))
    if (prepared._tag === "Failure") {
      yield* Scope.close(scope, Exit.void)
      return yield* parkCorrupt(run, prepared.failure)
    }
    const owed = prepared.success
    run.failureError = run.failure
    const finish = writeRollbackStep(run, 0, (at, state) => ({ _tag: "RollbackFinished", at, ...state }))
    // Every rollback was done before the resume: only the terminal write is missing.
    if (owed.length === 0) yield* finish
    yield* Scope.close(scope, Exit.fail(run.failure))
    if (owed.length > 0 && owed[0]!.index !== 0 && !ended(run) && run.abandoned === undefined) {
      // The first job was rolled back already (an operator's `retryRollback` re-runs later ones only): the terminal
      // status is written on its own.
      yield* finish
    }
    return run.abandoned === undefined ? failedOutcome(run) : yield* abandoned(run, run.abandoned)
  })

/** Decodes the recorded failure and arms the rollbacks a deployment found `rolling_back` still owes. */
const armOwed = (run: Run, scope: Scope.Scope, snapshot: Snapshot) =>
  Effect.gen(function*() {
    const deployment = snapshot.deployment
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
    const owed = owedRollbacks(run.progress)
    for (const { index, withOutput } of owed) {
      const compiled = run.reg.jobs[index]!
      const row = snapshot.jobs[index]!
      const input = yield* decodeStored(run.deploymentId, compiled.input, row.input, compiled.job.name, "input")
      const output = withOutput
        ? Option.some(yield* decodeStored(run.deploymentId, compiled.output, row.output, compiled.job.name, "output"))
        : Option.none()
      // Resumed too often at this rollback without progress: it is recorded as failed instead of run again.
      const skip = index === deployment.currentJob && run.handle.resumes > run.env.maxResumes
        ? new ResumeLimitExceeded({
          deploymentId: run.deploymentId,
          job: compiled.job.name,
          resumes: run.handle.resumes,
          limit: run.env.maxResumes
        })
        : undefined
      yield* armRollback(run, scope, compiled, input, { value: output }, skip)
    }
    // Rollbacks that failed before the resume still decide the terminal status.
    for (const job of run.progress.jobs) {
      if (job.status === "rollback_failed") {
        run.rollbackFailures.push(new RollbackFailure({ job: job.name, tag: "RollbackFailed", message: "failed before the deployment was resumed" }))
      }
    }
    return owed
  })
