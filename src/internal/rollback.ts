/**
 * The backward half of a run: each job's rollback is a finalizer of the deployment's scope, run last-in-first-out
 * and uninterruptibly when the scope closes with a failure, and each rollback step is one checkpoint.
 *
 * @internal
 */
import { Effect, Exit, Option, Schema, Scope } from "effect"
import { ResumeLimitExceeded, RollbackFailure, StoredDataCorrupt } from "../ActionError.ts"
import { Failure } from "../Deployment.ts"
import type { DeploymentPatch, JobPatch, NewErrorRow, Snapshot } from "../DeploymentStore.ts"
import { describeCause } from "./codec.ts"
import { recordRollback } from "./metrics.ts"
import type { CompiledJob } from "./registration.ts"
import {
  Abandon,
  abandoned,
  abandonOf,
  corrupt,
  decodeStored,
  encodeState,
  errorRow,
  failedOutcome,
  findAbandon,
  now,
  type Outcome,
  parkCorrupt,
  provideJob,
  logText,
  type Run,
  storableRow,
  unstorable,
  write
} from "./run.ts"
import { runRollbacks } from "./steps.ts"

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
  run.armed = compiled.index
  return Scope.addFinalizerExit(scope, (exit) =>
    Exit.isSuccess(exit) || run.abandoned !== undefined || run.terminal
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
    const failure = run.failure!
    const jobs: Array<JobPatch> = []
    const errors: Array<NewErrorRow> = []
    if (job.rollbacks.length > 0) {
      run.phase = "rollback"
      run.current = index
      const started = yield* now
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
      const at = yield* now
      if (Exit.isFailure(exit)) {
        const described = describeCause(exit.cause)
        const tag = logText(described.tag)
        const message = logText(described.message)
        run.rollbackFailures.push(new RollbackFailure({ job: job.name, tag, message }))
        errors.push({
          ...errorRow(compiled, "rollback", described.error, at),
          tag,
          message: `rollback: ${message}`
        })
        jobs.push({ index, status: "rollback_failed", rollbackStartedAt: started, rollbackFinishedAt: at })
        run.statuses[index] = "rollback_failed"
        yield* Effect.logWarning(`rollback of job "${job.name}" failed: ${message}`)
      } else {
        jobs.push({ index, status: "rolled_back", rollbackStartedAt: started, rollbackFinishedAt: at })
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
export const writeRollbackStep = (run: Run, index: number, jobs: Array<JobPatch>, errors: ReadonlyArray<NewErrorRow>) =>
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
          // Nothing to undo: rolled back without a rollback's times.
          jobs.push({ index: other.index, status: "rolled_back" })
          run.statuses[other.index] = "rolled_back"
        }
      }
      deployment.status = run.rollbackFailures.length > 0 ? "rollback_failed" : "rolled_back"
      deployment.releaseLease = true
    } else {
      deployment.currentJob = index - 1
    }
    const checkpoint = { at, deployment, jobs, errors }
    const exit = yield* Effect.exit(Effect.catch(write(run, checkpoint), (error) => {
      // The store refuses what this step holds (the state a rollback set, most likely): the step is recorded as a
      // failed rollback, without the state, and the earlier rollbacks still run.
      const refusal = unstorable(run, run.reg.jobs[index]!.job.name, checkpoint, error)
      if (run.cell !== undefined) run.cell.dirty = false
      const failed = markRollbackFailed(run, index, jobs, at)
      run.rollbackFailures.push(new RollbackFailure({ job: refusal.job, tag: refusal._tag, message: refusal.message }))
      if (index === 0) deployment.status = "rollback_failed"
      const { state: _state, ...withoutState } = deployment
      return write(run, {
        at,
        deployment: withoutState,
        jobs: failed,
        errors: [
          ...errors,
          storableRow({
            job: refusal.job,
            phase: "rollback",
            tag: refusal._tag,
            message: `rollback: ${refusal.message}`,
            detail: undefined,
            at
          })
        ]
      })
    }))
    if (Exit.isFailure(exit)) {
      run.abandoned = abandonOf(exit.cause)
      return
    }
    if (run.cell !== undefined && state._tag === "Success") run.cell.dirty = false
    if (index === 0) run.terminal = true
  })

/** The job patches of a rollback step with job `index`'s record turned to `rollback_failed`. */
const markRollbackFailed = (run: Run, index: number, jobs: ReadonlyArray<JobPatch>, at: number): Array<JobPatch> => {
  run.statuses[index] = "rollback_failed"
  const done = jobs.find((patch) => patch.index === index)
  return [
    ...jobs.filter((patch) => patch.index !== index),
    { index, status: "rollback_failed", rollbackStartedAt: done?.rollbackStartedAt ?? at, rollbackFinishedAt: at }
  ]
}

/** Continues the rollback of a deployment found `rolling_back`, from the job where it stopped. */
export const backward = (run: Run, snapshot: Snapshot): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const deployment = snapshot.deployment
    /** Whether the first job's rollback is armed: its step writes the terminal status. */
    let firstArmed = false
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
        // A job that failed before it got an input (the previous output did not fit it) never ran: nothing to undo.
        if (row.input === undefined && row.status === "failed") continue
        if (index === 0) firstArmed = true
        const input = yield* decodeStored(run.deploymentId, compiled.input, row.input, compiled.job.name, "input")
        const output = row.status === "succeeded"
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
    if (run.armed >= 0 && !firstArmed && !run.terminal && run.abandoned === undefined) {
      // The first job was rolled back already (an operator's `retryRollback` re-runs later ones only): the terminal
      // status is written on its own.
      yield* writeRollbackStep(run, 0, [], [])
    }
    return run.abandoned === undefined ? failedOutcome(run) : yield* abandoned(run, run.abandoned)
  })
