/**
 * The checkpoint of the persistence contract: the fence a writer holds, the patches one checkpoint applies to the
 * deployment row and to its job records, and what a committed checkpoint tells the writer. `DeploymentStore`
 * exports them.
 *
 * @internal
 */
import type { DeploymentStatus, JobStatus } from "../Deployment.ts"
import type { AttemptRow, FailureRow, Json, NewErrorRow, ParkedRow, RequestRow } from "./storeRows.ts"

/**
 * The lease a writer claims to hold. Fenced writes apply only when the stored `owner` and `leaseEpoch` match.
 *
 * @since 0.1.0
 * @category models
 */
export interface Fence {
  readonly deploymentId: string
  readonly owner: string
  readonly epoch: number
}

/**
 * The changes a checkpoint makes to the deployment row. An absent field is left as it is.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeploymentPatch {
  readonly status?: DeploymentStatus
  readonly currentJob?: number
  readonly state?: Json
  readonly output?: Json
  /** The failure that started a rollback (or a pause); `null` clears it (an operator retried the failed job). */
  readonly failure?: FailureRow | null
  /** The new resume count: the runtime writes 0 when the deployment reaches a new checkpoint after a resume. */
  readonly resumes?: number
  /** Parks the deployment (its data does not decode): it is never claimed again until repaired. */
  readonly parked?: ParkedRow
  /** Ends the lease (clears owner and expiry); used with a terminal status, and when parking. */
  readonly releaseLease?: true
  /**
   * With the `paused` status: the request the store records, as given, when the deployment's stop flag is set and no
   * request is pending (a stop asked while the failure was being paused). Written in the same write as the pause, so
   * that a process that has the action carries the stop out even if the one that paused does not live to.
   *
   * @since 0.4.0
   */
  readonly stopRequest?: RequestRow
}

/**
 * The changes a checkpoint makes to one job record. An absent field is left as it is.
 *
 * @since 0.1.0
 * @category models
 */
export interface JobPatch {
  readonly index: number
  readonly status: JobStatus
  readonly input?: Json
  readonly output?: Json
  readonly attempts?: number
  readonly startedAt?: number
  /** `null` clears it (a retried job runs again). */
  readonly finishedAt?: number | null
  /** When the job's rollback started (written with the rollback step's checkpoint). */
  readonly rollbackStartedAt?: number
  /** When the job's rollback ended. */
  readonly rollbackFinishedAt?: number
  /** Replaces the job's earlier attempts (written when a job starts again: on resume, on an operator's retry). */
  readonly earlierAttempts?: ReadonlyArray<AttemptRow>
}

/**
 * One atomic, fenced write: a deployment patch, job patches and error entries to append.
 *
 * @since 0.1.0
 * @category models
 */
export interface Checkpoint {
  readonly fence: Fence
  /** Epoch milliseconds: becomes the deployment's `updatedAt`. */
  readonly at: number
  readonly deployment: DeploymentPatch
  readonly jobs: ReadonlyArray<JobPatch>
  readonly errors: ReadonlyArray<NewErrorRow>
}

/**
 * What a committed checkpoint tells the writer: whether a stop was requested meanwhile.
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckpointResult {
  readonly stopRequested: boolean
}
