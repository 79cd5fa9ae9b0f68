/**
 * One attempt of a job: its pre-hooks, execute and post-hooks, within the job's timeout, run interruptibly (a stop
 * or a lost lease interrupts it), with what a job function sees around it:
 * - the registration's services, the state cell and the run's `JobContext`;
 * - the `effect-actions.job` span, as the parent span and the stack frame of what the job runs;
 * - the log annotations `job` and `attempt`;
 * - the attempt counted in the metrics, and its duration recorded when it ends, however it ends.
 *
 * All of that is set up in one step of the fiber and torn down in one exit hook (`spanned.ts`): an attempt's setup
 * costs the same whatever the job, and a no-op job with no hooks costs a handful of fiber steps.
 *
 * @internal
 */
import { Duration, Effect } from "effect"
import { JobTimeout } from "../ActionError.ts"
import type { Job } from "../Job.ts"
import { startAttempt } from "./metrics.ts"
import type { CompiledJob } from "./registration.ts"
import type { Run } from "./run.ts"
import { spanned } from "./spanned.ts"
import { runHooks } from "./steps.ts"

/** Restores the interruptibility the caller's region had (`Effect.uninterruptibleMask`). */
export type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

type AnyJob = Job<unknown, unknown, unknown, unknown>

/** The job's hooks and execute, with the run's phase set as each starts; hooks that are absent cost nothing. */
const jobBody = (run: Run, job: AnyJob, input: unknown): Effect.Effect<unknown, unknown, unknown> =>
  Effect.suspend(() => {
    let effect: Effect.Effect<unknown, unknown, unknown>
    if (job.preHooks.length === 0) {
      run.phase = "execute"
      effect = job.execute(input)
    } else {
      run.phase = "pre_hook"
      effect = Effect.flatMap(runHooks(job.preHooks, input), (value) => {
        run.phase = "execute"
        return job.execute(value)
      })
    }
    if (job.postHooks.length === 0) return effect
    return Effect.flatMap(effect, (output) => {
      run.phase = "post_hook"
      return runHooks(job.postHooks, output)
    })
  })

const withTimeout = (job: AnyJob, effect: Effect.Effect<unknown, unknown, unknown>) => {
  const timeout = job.timeout
  if (timeout === undefined) return effect
  return Effect.timeoutOrElse(effect, {
    duration: timeout,
    orElse: () => Effect.fail(new JobTimeout({ job: job.name, timeout: Duration.format(Duration.fromInputUnsafe(timeout)) }))
  })
}

/** Runs one attempt of a job with `input`; only the job's own effects are interruptible. */
export const attemptJob = (
  run: Run,
  compiled: CompiledJob,
  input: unknown,
  restore: Restore
): Effect.Effect<unknown, unknown> => {
  const job = compiled.job as AnyJob
  const attempt = run.progress.jobs[compiled.index]?.attempts ?? 1
  // What the job requires is in the run's context (the registration was checked to provide it).
  const body = restore(withTimeout(job, jobBody(run, job, input))) as Effect.Effect<unknown, unknown>
  return spanned({
    name: "effect-actions.job",
    attributes: { ...run.annotations, "job.name": job.name, "job.index": compiled.index, "job.attempt": attempt },
    annotations: { job: job.name, attempt },
    context: run.context
  }, (fiber, atEnd) => {
    atEnd(startAttempt(run.reg, compiled, fiber))
    return body
  })
}
