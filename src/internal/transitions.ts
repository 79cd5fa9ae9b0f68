/**
 * A deployment's transitions, as one pure function: from the deployment's persisted progress and an event, `next`
 * computes the next progress and the checkpoint that records it, or refuses an event that does not apply.
 *
 * The Effect code (`runner.ts`, `rollback.ts`, `operations.ts`) runs jobs and rollbacks, encodes values, and
 * writes what `next` computed: the checkpoint it writes is the one computed here (the runtime only adds the fence
 * and, after a resume, the reset of the resume count), and the progress it keeps is the one computed here once
 * the write committed. So every status change of a deployment is decided in this file, and nowhere else.
 *
 * **The state machine** (`docs/concepts.md` draws it):
 *
 * | status | events that apply | to |
 * |---|---|---|
 * | `running` | `Resumed` (the current job starts again: one more attempt) | `running` |
 * | | `JobSucceeded` (not the last job: the next one starts, in the same checkpoint) | `running` |
 * | | `JobSucceeded` (the last job) | `succeeded` |
 * | | `JobFailed`, policy `"rollback"`, or any failure once a stop was asked | `rolling_back` |
 * | | `JobFailed`, policy `"pause"` | `paused` |
 * | | `StopRequested` (nothing written: the runner interrupts the job, which fails as `ExecutionStopped`) | `running` |
 * | `paused` | `Retry` (the failed job runs again) | `running` |
 * | | `Rollback`, `StopRequested` (the failure becomes `ExecutionStopped`) | `rolling_back` |
 * | `rolling_back` | `Resumed` (nothing written: the rollback goes on where it stopped) | `rolling_back` |
 * | | `RollbackStepDone`, `RollbackStepFailed` of a job above the first | `rolling_back` |
 * | | the step of the first job, or `RollbackFinished` (the terminal write alone) | `rolled_back` or `rollback_failed` |
 * | | `RollbackStepRefused` (the store refused a step: it is recorded as a failed rollback) | as the step |
 * | `rollback_failed` | `RetryRollback` (the failed rollbacks get back the status they had before) | `rolling_back` |
 * | | `Restart` (nothing written here: a new deployment is created) | `rollback_failed` |
 * | `succeeded`, `rolled_back` | `Restart` | unchanged |
 *
 * Any other pair is refused with reason `"status"`. An event that applies to the status but not to the progress
 * (a job index out of range or not the current one, a time that is not a finite number, a retry whose earlier
 * jobs have no output, a retry of rollbacks none of which failed) is refused with another reason; nothing is
 * written for a refused event.
 *
 * What the progress holds is what the decisions need and nothing more: statuses, the current job, the failure, the
 * stop flag, and per job its status, attempts, times and whether it has an input, an output and a rollback. Values
 * (inputs, outputs, state) pass through the events into the checkpoint and are not kept.
 *
 * @internal
 */
import type { DeploymentStatus, JobPhase, JobStatus } from "../Deployment.ts"
import type {
  AttemptRow,
  DeploymentPatch,
  FailureRow,
  JobPatch,
  Json,
  NewErrorRow,
  Snapshot
} from "../DeploymentStore.ts"
import { storableJson, storableRow } from "./storable.ts"
import {
  appliesTo,
  type Event,
  type JobFailed,
  type JobProgress,
  type JobSucceeded,
  type Progress,
  type RefusalReason,
  type Refused,
  type Retry,
  type RollbackStep,
  type RollbackStepRefused,
  stoppedMessage,
  stoppedTag,
  stopWhilePausing,
  type Transition,
  type WithState,
  type Write
} from "./transitionModels.ts"
import { applyCheckpoint } from "./transitionWrites.ts"

export * from "./transitionModels.ts"
export * from "./transitionWrites.ts"

// ---------------------------------------------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------------------------------------------

/** The progress of a stored deployment; `hasRollback` tells which jobs of its definition have a rollback. */
export const progressOf = (snapshot: Snapshot, hasRollback: (index: number) => boolean): Progress => ({
  deploymentId: snapshot.deployment.id,
  status: snapshot.deployment.status,
  currentJob: snapshot.deployment.currentJob,
  failure: snapshot.deployment.failure,
  stopRequested: snapshot.deployment.stopRequested,
  jobs: snapshot.jobs.map((job) => ({
    name: job.name,
    status: job.status,
    attempts: job.attempts,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    earlierAttempts: job.earlierAttempts,
    hasInput: job.input !== undefined,
    hasOutput: job.output !== undefined,
    hasRollback: hasRollback(job.index)
  }))
})

// ---------------------------------------------------------------------------------------------------------------
// queries
// ---------------------------------------------------------------------------------------------------------------

/** Whether a status is terminal (`succeeded`, `rolled_back`, `rollback_failed`). */
export const isTerminal = (status: DeploymentStatus): boolean =>
  status === "succeeded" || status === "rolled_back" || status === "rollback_failed"

/** Whether a job ran (or runs): its effects may need undoing. */
const ran = (status: JobStatus): boolean => status === "succeeded" || status === "failed" || status === "running"

/**
 * The rollbacks a deployment found `rolling_back` still owes, lowest job first (they run in reverse): every job up
 * to the current one that ran, but a job that failed before it got an input (it never ran: nothing to undo). A
 * job's rollback gets its output when it succeeded.
 */
export const owedRollbacks = (
  progress: Progress
): ReadonlyArray<{ readonly index: number; readonly withOutput: boolean }> => {
  const owed: Array<{ readonly index: number; readonly withOutput: boolean }> = []
  for (let index = 0; index <= progress.currentJob && index < progress.jobs.length; index++) {
    const job = progress.jobs[index]!
    if (!ran(job.status) || (job.status === "failed" && !job.hasInput)) continue
    owed.push({ index, withOutput: job.status === "succeeded" })
  }
  return owed
}

/**
 * The earlier attempts of a job that starts again: those it kept, and the one that ends now (without an end when
 * the job never finished it: its process died).
 */
export const withLastAttempt = (
  job: Pick<JobProgress, "attempts" | "startedAt" | "finishedAt" | "earlierAttempts">
): ReadonlyArray<AttemptRow> | undefined =>
  job.startedAt === undefined ? job.earlierAttempts : [
    ...(job.earlierAttempts ?? []),
    { attempt: job.attempts, startedAt: job.startedAt, ...(job.finishedAt === undefined ? {} : { finishedAt: job.finishedAt }) }
  ]

// ---------------------------------------------------------------------------------------------------------------
// the transition function
// ---------------------------------------------------------------------------------------------------------------

const refuse = (reason: RefusalReason, detail: string): Refused => ({ _tag: "Refused", reason, detail })

/** The time of an event (a refused step's is its step's). */
const timeOf = (event: Event): number => event._tag === "RollbackStepRefused" ? event.step.at : event.at

/** Refuses what is malformed whatever the status: a time or a job index that cannot be. */
const malformed = (progress: Progress, event: Event): Refused | undefined => {
  const times = [timeOf(event)]
  if (event._tag === "RollbackStepDone" || event._tag === "RollbackStepFailed") {
    times.push(event.rollback.startedAt, event.rollback.finishedAt)
  }
  if (event._tag === "JobFailed" && event.previous !== undefined) times.push(event.previous.finishedAt)
  if (times.some((time) => !Number.isFinite(time))) return refuse("invalid", "a time is not a finite number")
  const index = indexOf(event)
  if (index !== undefined && (!Number.isInteger(index) || index < 0 || index >= progress.jobs.length)) {
    return refuse("invalid", `job index ${index} is not one of the ${progress.jobs.length} jobs`)
  }
  if (!Number.isInteger(progress.currentJob) || progress.currentJob < 0 || progress.currentJob >= progress.jobs.length) {
    return refuse("invalid", `the current job ${progress.currentJob} is not one of the ${progress.jobs.length} jobs`)
  }
  return undefined
}

const indexOf = (event: Event): number | undefined => {
  switch (event._tag) {
    case "JobSucceeded":
    case "JobFailed":
    case "RollbackStepDone":
    case "RollbackStepFailed":
      return event.index
    case "RollbackStepRefused":
      return event.step._tag === "RollbackFinished" ? undefined : event.step.index
    default:
      return undefined
  }
}

/**
 * The next progress of a deployment after `event`, and the checkpoint that records it; or why the event does not
 * apply. Pure: the same progress and event always give the same result.
 */
export const next = (progress: Progress, event: Event): Transition => {
  if (!appliesTo[event._tag].includes(progress.status)) {
    return refuse("status", `${event._tag} does not apply to a ${progress.status} deployment`)
  }
  const bad = malformed(progress, event)
  if (bad !== undefined) return bad
  const decided = decide(progress, event)
  if (decided._tag === "Refused") return decided
  const { checkpoint } = decided
  const after = checkpoint === undefined ? progress : applyCheckpoint(progress, checkpoint)
  return { _tag: "Next", progress: decided.stop === true ? { ...after, stopRequested: true } : after, checkpoint }
}

type Decision =
  | Refused
  | { readonly _tag: "Write"; readonly checkpoint: Write | undefined; readonly stop?: true }

const write = (checkpoint: Write | undefined): Decision => ({ _tag: "Write", checkpoint })

const decide = (progress: Progress, event: Event): Decision => {
  switch (event._tag) {
    case "Resumed":
      return progress.status === "running" ? write(resumeForward(progress, event.at)) : write(undefined)
    case "JobSucceeded":
      return jobSucceeded(progress, event)
    case "JobFailed":
      return jobFailed(progress, event)
    case "StopRequested":
      return progress.status === "running"
        ? { _tag: "Write", checkpoint: undefined, stop: true }
        : write(stopPaused(progress, event.at))
    case "RollbackStepDone":
    case "RollbackStepFailed":
    case "RollbackFinished":
      return rollbackStep(progress, event)
    case "RollbackStepRefused":
      return rollbackStepRefused(progress, event)
    case "Retry":
      return retry(progress, event)
    case "Rollback":
      return write({ at: event.at, deployment: { status: "rolling_back" }, jobs: [], errors: [] })
    case "RetryRollback":
      return retryRollback(progress, event.at)
    case "Restart":
      return write(undefined)
  }
}

const stateOf = (event: WithState): { readonly state?: Json } =>
  event.state === undefined ? {} : { state: event.state }

// ---------------------------------------------------------------------------------------------------------------
// forward
// ---------------------------------------------------------------------------------------------------------------

/** The current job starts again: its attempt count goes up, the attempt cut short is kept. */
const resumeForward = (progress: Progress, at: number): Write => {
  const index = progress.currentJob
  const job = progress.jobs[index]!
  const earlierAttempts = withLastAttempt(job)
  return {
    at,
    deployment: {},
    jobs: [{
      index,
      status: "running",
      attempts: job.attempts + 1,
      startedAt: at,
      ...(earlierAttempts === undefined ? {} : { earlierAttempts })
    }],
    errors: []
  }
}

const jobSucceeded = (progress: Progress, event: JobSucceeded): Decision => {
  const { at, index, output } = event
  if (index !== progress.currentJob || progress.jobs[index]!.status !== "running") {
    return refuse("job", `job ${index} is not the running job (job ${progress.currentJob} is current)`)
  }
  const done: JobPatch = { index, status: "succeeded", output, finishedAt: at }
  const next = event.next
  if (index === progress.jobs.length - 1) {
    if (next !== undefined) return refuse("invalid", "the last job has no next job to start")
    return write({
      at,
      deployment: { ...stateOf(event), status: "succeeded", output, releaseLease: true },
      jobs: [done],
      errors: []
    })
  }
  if (next === undefined) return refuse("invalid", "the next job's input is missing")
  return write({
    at,
    deployment: { ...stateOf(event), currentJob: index + 1 },
    jobs: [done, { index: index + 1, status: "running", input: next.input, attempts: 1, startedAt: at }],
    errors: []
  })
}

const jobFailed = (progress: Progress, event: JobFailed): Decision => {
  const { at, failure, index } = event
  const job = progress.jobs[index]!
  // The failing job is the current one, or the next one when it failed before it started (its input).
  const before = index === progress.currentJob + 1 && job.status === "pending"
  if (index !== progress.currentJob && !before) {
    return refuse("job", `job ${index} is neither the current job (${progress.currentJob}) nor the next one`)
  }
  if (event.previous !== undefined && !before) {
    return refuse("job", "an unsaved output belongs to the job before a job that did not start")
  }
  const pause = event.onFailure === "pause" && !event.stopped && !progress.stopRequested
  // A job that did not start has no rollback armed: the rollback starts at the job before it.
  const rollbackFrom = job.status === "running" ? index : index - 1
  const failed: JobPatch = { index, status: "failed", finishedAt: at }
  const deployment: DeploymentPatch = {
    ...stateOf(event),
    ...(pause
      ? {
        status: "paused",
        currentJob: index,
        releaseLease: true,
        // recorded by the store only if a stop was asked while this pause was being written
        stopRequest: { ...event.stopRequest, operation: "stop", at, reason: stopWhilePausing }
      }
      : { status: "rolling_back", currentJob: rollbackFrom }),
    failure
  }
  return write({
    at,
    deployment,
    jobs: event.previous === undefined ? [failed] : [
      { index: index - 1, status: "succeeded", output: event.previous.output, finishedAt: event.previous.finishedAt },
      failed
    ],
    errors: event.logged ? [] : [failureLogRow(failure, at)]
  })
}

/** The error log entry of a job's failure. */
const failureLogRow = (failure: FailureRow, at: number): NewErrorRow =>
  storableRow({
    job: failure.job,
    phase: failure.phase,
    tag: failure.tag,
    message: failure.message,
    detail: failure.detail,
    at
  })

// ---------------------------------------------------------------------------------------------------------------
// backward
// ---------------------------------------------------------------------------------------------------------------

const rollbackStep = (progress: Progress, event: RollbackStep): Decision => {
  if (event._tag !== "RollbackFinished") {
    const job = progress.jobs[event.index]!
    if (event.index > progress.currentJob || !ran(job.status)) {
      return refuse(
        "job",
        `job ${event.index} has no rollback owed (it is ${job.status}; rollbacks are owed up to job ${progress.currentJob})`
      )
    }
  }
  return write(rollbackCheckpoint(progress, event))
}

/** The checkpoint of a rollback step; the first job's step (or the terminal write alone) ends the deployment. */
const rollbackCheckpoint = (progress: Progress, event: RollbackStep): Write => {
  const index = event._tag === "RollbackFinished" ? 0 : event.index
  const jobs: Array<JobPatch> = []
  const errors: Array<NewErrorRow> = []
  if (event._tag === "RollbackStepDone") {
    jobs.push({ index, status: "rolled_back", rollbackStartedAt: event.rollback.startedAt, rollbackFinishedAt: event.rollback.finishedAt })
  } else if (event._tag === "RollbackStepFailed") {
    errors.push({
      job: progress.jobs[index]!.name,
      phase: "rollback",
      tag: event.error.tag,
      message: `rollback: ${event.error.message}`,
      detail: event.error.detail === undefined ? undefined : storableJson(event.error.detail),
      at: event.rollback.finishedAt
    })
    jobs.push({ index, status: "rollback_failed", rollbackStartedAt: event.rollback.startedAt, rollbackFinishedAt: event.rollback.finishedAt })
  }
  if (index > 0) return { at: event.at, deployment: { ...stateOf(event), currentJob: index - 1 }, jobs, errors }
  const failed = event._tag === "RollbackStepFailed" || progress.jobs.some((job) => job.status === "rollback_failed")
  for (const [other, job] of progress.jobs.entries()) {
    // Nothing to undo: rolled back without a rollback's times.
    if (!job.hasRollback && ran(job.status)) jobs.push({ index: other, status: "rolled_back" })
  }
  return {
    at: event.at,
    deployment: { ...stateOf(event), status: failed ? "rollback_failed" : "rolled_back", releaseLease: true },
    jobs,
    errors
  }
}

/**
 * A rollback step whose checkpoint the store refused (the state a rollback set, most likely): the step is recorded
 * as a failed rollback of its job, without the state, and the refusal is logged; the earlier rollbacks still run.
 */
const rollbackStepRefused = (progress: Progress, event: RollbackStepRefused): Decision => {
  const step = rollbackStep(progress, event.step)
  if (step._tag === "Refused" || step.checkpoint === undefined) return step
  const { at, deployment, errors, jobs } = step.checkpoint
  const index = event.step._tag === "RollbackFinished" ? 0 : event.step.index
  const done = jobs.find((patch) => patch.index === index)
  const { state: _state, ...withoutState } = deployment
  return write({
    at,
    deployment: index === 0 ? { ...withoutState, status: "rollback_failed" } : withoutState,
    jobs: [
      ...jobs.filter((patch) => patch.index !== index),
      { index, status: "rollback_failed", rollbackStartedAt: done?.rollbackStartedAt ?? at, rollbackFinishedAt: at }
    ],
    errors: [
      ...errors,
      storableRow({
        job: progress.jobs[index]!.name,
        phase: "rollback",
        tag: event.refusal.tag,
        message: `rollback: ${event.refusal.message}`,
        detail: undefined,
        at
      })
    ]
  })
}

// ---------------------------------------------------------------------------------------------------------------
// operators
// ---------------------------------------------------------------------------------------------------------------

/** A paused deployment asked to stop rolls back, with `ExecutionStopped` as its failure. */
const stopPaused = (progress: Progress, at: number): Write => {
  const index = progress.currentJob
  const job = progress.jobs[index]!.name
  const phase: JobPhase = progress.failure?.phase ?? "execute"
  const message = stoppedMessage(progress.deploymentId)
  return {
    at,
    deployment: { status: "rolling_back", failure: { job, jobIndex: index, phase, tag: stoppedTag, message } },
    jobs: [],
    errors: [storableRow({ job, phase, tag: stoppedTag, message, detail: undefined, at })]
  }
}

/** The failed job of a paused deployment runs again (its earlier jobs must all have succeeded). */
const retry = (progress: Progress, event: Retry): Decision => {
  const index = progress.currentJob
  for (const earlier of progress.jobs.slice(0, index)) {
    if (earlier.status !== "succeeded") {
      return refuse(
        "job",
        `job "${earlier.name}" before the failed job has no recorded output (it is ${earlier.status}): roll the deployment back instead`
      )
    }
  }
  if (event.input === undefined) return refuse("input", "the failed job has no input to run again with")
  const job = progress.jobs[index]!
  const earlierAttempts = withLastAttempt(job)
  return write({
    at: event.at,
    deployment: { status: "running", failure: null },
    jobs: [{
      index,
      status: "running",
      input: event.input,
      attempts: job.attempts + 1,
      startedAt: event.at,
      finishedAt: null,
      ...(earlierAttempts === undefined ? {} : { earlierAttempts })
    }],
    errors: []
  })
}

/** The failed rollbacks get back the status they had before (their rollback times stay until they run again). */
const retryRollback = (progress: Progress, at: number): Decision => {
  const jobs: Array<JobPatch> = []
  for (const [index, job] of progress.jobs.entries()) {
    if (job.status === "rollback_failed") jobs.push({ index, status: job.hasOutput ? "succeeded" : "failed" })
  }
  if (jobs.length === 0) return refuse("nothing_to_retry", "no job's rollback is recorded as failed")
  return write({ at, deployment: { status: "rolling_back", currentJob: jobs[jobs.length - 1]!.index }, jobs, errors: [] })
}
