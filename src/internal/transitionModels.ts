/**
 * The models of a deployment's transitions (`transitions.ts`): the progress they decide from, the events that move a
 * deployment, what a transition gives (the next progress and its checkpoint, or a refusal), and the statuses each
 * event applies to.
 *
 * @internal
 */
import type { DeploymentStatus, JobStatus } from "../Deployment.ts"
import type { AttemptRow, Checkpoint, FailureRow, Json } from "../DeploymentStore.ts"

/** What the transitions know of one job: its stored record's shape, without its values. */
export interface JobProgress {
  readonly name: string
  readonly status: JobStatus
  readonly attempts: number
  readonly startedAt?: number | undefined
  readonly finishedAt?: number | undefined
  readonly earlierAttempts?: ReadonlyArray<AttemptRow> | undefined
  readonly hasInput: boolean
  readonly hasOutput: boolean
  /** Whether the job's definition has a rollback (from the registration, not stored). */
  readonly hasRollback: boolean
}

/** A deployment's persisted progress: what the transitions decide from. */
export interface Progress {
  readonly deploymentId: string
  readonly status: DeploymentStatus
  readonly currentJob: number
  readonly failure: FailureRow | undefined
  /** A stop was asked (the store's flag): a failure then always rolls back. */
  readonly stopRequested: boolean
  readonly jobs: ReadonlyArray<JobProgress>
}

/** A job's output and when it was produced, for a failure met before the boundary checkpoint was written. */
export interface UnsavedOutput {
  readonly output: Json
  readonly finishedAt: number
}

/** A rollback's start and end times. */
export interface RollbackTimes {
  readonly startedAt: number
  readonly finishedAt: number
}

/** What made a rollback fail, made storable (`logText`) by the caller; `detail` is its encoded error, if any. */
export interface RollbackError {
  readonly tag: string
  readonly message: string
  readonly detail?: Json | undefined
}

/** The encoded state to checkpoint with the event, when it changed. */
export interface WithState {
  readonly state?: Json
}

/** The current job starts again after a claim: one more attempt (forward); nothing is written backward. */
export interface Resumed {
  readonly _tag: "Resumed"
  readonly at: number
}

/** Job `index` succeeded with `output`; `next` holds the next job's input, and is absent after the last job. */
export interface JobSucceeded extends WithState {
  readonly _tag: "JobSucceeded"
  readonly at: number
  readonly index: number
  readonly output: Json
  readonly next?: { readonly input: Json } | undefined
}

/**
 * Job `index` failed. `previous` is the output of job `index - 1` when the failure was met preparing this job's
 * input (the boundary checkpoint was not written yet). `stopped`: the failure is a stop (it always rolls back).
 * `logged`: the job recorded this error in the log itself (`JobContext.recordError`): it is not appended twice.
 */
export interface JobFailed extends WithState {
  readonly _tag: "JobFailed"
  readonly at: number
  readonly index: number
  readonly failure: FailureRow
  readonly onFailure: "rollback" | "pause"
  readonly stopped: boolean
  readonly logged: boolean
  readonly previous?: UnsavedOutput | undefined
  /**
   * Under the pause policy, the stop request a pause records if a stop was asked meanwhile
   * (`DeploymentPatch.stopRequest`): its id, fresh, and the lease holder that writes it.
   */
  readonly stopRequest: { readonly id: string; readonly by: string }
}

/** A stop was asked: forward, the flag is noted (the runner interrupts the job); paused, the rollback starts. */
export interface StopRequested {
  readonly _tag: "StopRequested"
  readonly at: number
}

/** Job `index`'s rollback ran and succeeded. */
export interface RollbackStepDone extends WithState {
  readonly _tag: "RollbackStepDone"
  readonly at: number
  readonly index: number
  readonly rollback: RollbackTimes
}

/** Job `index`'s rollback ran and failed (or was not run again: resumed too often at it). */
export interface RollbackStepFailed extends WithState {
  readonly _tag: "RollbackStepFailed"
  readonly at: number
  readonly index: number
  readonly rollback: RollbackTimes
  readonly error: RollbackError
}

/** Only the terminal write is left: the first job had nothing to undo, or was undone before. */
export interface RollbackFinished extends WithState {
  readonly _tag: "RollbackFinished"
  readonly at: number
}

/** A rollback step's event. */
export type RollbackStep = RollbackStepDone | RollbackStepFailed | RollbackFinished

/** The store refused `step`'s checkpoint (what it holds can never be stored): the step is recorded as failed. */
export interface RollbackStepRefused {
  readonly _tag: "RollbackStepRefused"
  readonly step: RollbackStep
  readonly refusal: { readonly tag: string; readonly message: string }
}

/** An operator's retry of a paused deployment's failed job, with this input (absent: the job has none). */
export interface Retry {
  readonly _tag: "Retry"
  readonly at: number
  readonly input: Json | undefined
}

/** An operator's rollback of a paused deployment. */
export interface Rollback {
  readonly _tag: "Rollback"
  readonly at: number
}

/** An operator's retry of a `rollback_failed` deployment's failed rollbacks. */
export interface RetryRollback {
  readonly _tag: "RetryRollback"
  readonly at: number
}

/** An operator's restart of a finished deployment: a new deployment; nothing is written to this one. */
export interface Restart {
  readonly _tag: "Restart"
  readonly at: number
}

/** Everything that moves a deployment. */
export type Event =
  | Resumed
  | JobSucceeded
  | JobFailed
  | StopRequested
  | RollbackStepDone
  | RollbackStepFailed
  | RollbackFinished
  | RollbackStepRefused
  | Retry
  | Rollback
  | RetryRollback
  | Restart

/** A checkpoint to write, without its fence. */
export type Write = Omit<Checkpoint, "fence">

/** An event that applies: the progress once `checkpoint` committed (`undefined`: nothing to write). */
export interface Next {
  readonly _tag: "Next"
  readonly progress: Progress
  readonly checkpoint: Write | undefined
}

/**
 * Why an event was refused: the deployment's status (`status`), a job's record (`job`: an earlier job has no
 * output, the job is not the current one or is in the wrong status), no input to retry with (`input`), no failed
 * rollback to retry (`nothing_to_retry`), or a malformed event (`invalid`: an index out of range, a time that is
 * not a finite number).
 */
export type RefusalReason = "status" | "job" | "input" | "nothing_to_retry" | "invalid"

/** An event that does not apply to the progress; nothing is written. */
export interface Refused {
  readonly _tag: "Refused"
  readonly reason: RefusalReason
  readonly detail: string
}

export type Transition = Next | Refused

/** The statuses each event applies to. */
export const appliesTo: { readonly [Tag in Event["_tag"]]: ReadonlyArray<DeploymentStatus> } = {
  Resumed: ["running", "rolling_back"],
  JobSucceeded: ["running"],
  JobFailed: ["running"],
  StopRequested: ["running", "paused"],
  RollbackStepDone: ["rolling_back"],
  RollbackStepFailed: ["rolling_back"],
  RollbackFinished: ["rolling_back"],
  RollbackStepRefused: ["rolling_back"],
  Retry: ["paused"],
  Rollback: ["paused"],
  RetryRollback: ["rollback_failed"],
  Restart: ["succeeded", "rolled_back", "rollback_failed"]
}

/** The reason of the stop request a pause records when a stop was asked while it was being written. */
export const stopWhilePausing = "a stop was asked while the failure paused the deployment"

/** The tag of `ExecutionStopped`, the failure of a stopped deployment. */
export const stoppedTag = "ExecutionStopped"

/** The message of `ExecutionStopped` (`ActionError.ts`; a test keeps the two the same). */
export const stoppedMessage = (deploymentId: string): string =>
  `deployment ${deploymentId} was stopped by a user request`
