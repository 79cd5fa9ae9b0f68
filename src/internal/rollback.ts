/**
 * The backward half of a run: each job's rollback is a finalizer of the deployment's scope, run last-in-first-out
 * and uninterruptibly when the scope closes with a failure, and each rollback step is one checkpoint.
 *
 * @internal
 */
import { Effect, Exit, Option, Schema, Scope } from "effect"
import { RollbackFailure, StoredDataCorrupt } from "../ActionError.ts"
import { Failure } from "../Deployment.ts"
import type { DeploymentPatch, JobPatch, NewErrorRow, Snapshot } from "../DeploymentStore.ts"
import { describeCause } from "./codec.ts"
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
  type Run,
  write
} from "./run.ts"
import { runRollbacks } from "./steps.ts"

/** Registers the rollback of a job that started, as a finalizer of the deployment's scope. */
export const armRollback = (
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
export const rollbackStep = (run: Run, compiled: CompiledJob, input: unknown, output: Option.Option<unknown>) =>
  Effect.gen(function*() {
    const { index, job } = compiled
    const failure = run.failure!
    const jobs: Array<JobPatch> = []
    const errors: Array<NewErrorRow> = []
    if (job.rollbacks.length > 0) {
      run.phase = "rollback"
      run.current = index
      const exit = yield* Effect.exit(
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
      run.abandoned = abandonOf(exit.cause)
      return
    }
    if (run.cell !== undefined && state._tag === "Success") run.cell.dirty = false
    if (index === 0) run.terminal = true
  })

/** Continues the rollback of a deployment found `rolling_back`, from the job where it stopped. */
export const backward = (run: Run, snapshot: Snapshot): Effect.Effect<Outcome> =>
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
