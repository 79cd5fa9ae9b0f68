/**
 * The rows of the persistence contract: the encoded form of the models in `Deployment` (JSON-compatible data,
 * strings, numbers, epoch milliseconds) that a `DeploymentStore` holds and reads back, and the snapshot (a
 * deployment with its job records). `DeploymentStore` exports them.
 *
 * @internal
 */
import type { Schema } from "effect"
import type {
  AttemptRun,
  Deployment as DeploymentRecord,
  ErrorEntry,
  Failure,
  HistoryEntry,
  JobRun,
  OperationRequest,
  Parked
} from "../Deployment.ts"

/**
 * A JSON-compatible value, as stored.
 *
 * @since 0.1.0
 * @category models
 */
export type Json = Schema.Json

/**
 * A deployment row: the encoded `Deployment` without its jobs and its history.
 *
 * @since 0.1.0
 * @category models
 */
export type DeploymentRow = Omit<typeof DeploymentRecord.Encoded, "jobs" | "history">

/**
 * A job record row: the encoded `JobRun`.
 *
 * @since 0.1.0
 * @category models
 */
export type JobRunRow = typeof JobRun.Encoded

/**
 * An error log row: the encoded `ErrorEntry`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorRow = typeof ErrorEntry.Encoded

/**
 * An error log entry to append; the store assigns its `sequence`.
 *
 * @since 0.1.0
 * @category models
 */
export type NewErrorRow = Omit<ErrorRow, "sequence">

/**
 * An encoded `Failure`.
 *
 * @since 0.1.0
 * @category models
 */
export type FailureRow = typeof Failure.Encoded

/**
 * A history row: the encoded `HistoryEntry`.
 *
 * @since 0.3.0
 * @category models
 */
export type HistoryRow = typeof HistoryEntry.Encoded

/**
 * A history entry to append; the store assigns its `sequence`.
 *
 * @since 0.3.0
 * @category models
 */
export type NewHistoryRow = Omit<HistoryRow, "sequence">

/**
 * An encoded `OperationRequest`: an operation waiting for a process that has the action.
 *
 * @since 0.3.0
 * @category models
 */
export type RequestRow = typeof OperationRequest.Encoded

/**
 * An encoded `Parked`: why a deployment's stored data cannot be run.
 *
 * @since 0.2.0
 * @category models
 */
export type ParkedRow = typeof Parked.Encoded

/**
 * A deployment with its job records, as read in one go.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly deployment: DeploymentRow
  readonly jobs: ReadonlyArray<JobRunRow>
}

/**
 * An encoded `AttemptRun`: an attempt of a job before its last one.
 *
 * @since 0.3.0
 * @category models
 */
export type AttemptRow = typeof AttemptRun.Encoded

/**
 * A stored row a read could not decode: its id and what is wrong with it.
 *
 * @since 0.2.0
 * @category models
 */
export interface UnreadableRow {
  readonly id: string
  readonly issue: string
}

/**
 * The few fields `status` reads: enough to wait for a deployment without reading its values.
 *
 * @since 0.2.0
 * @category models
 */
export type StatusRow = Pick<DeploymentRow, "id" | "application" | "action" | "status" | "parked" | "updatedAt">

/**
 * One job data entry of a deployment, as stored.
 *
 * @since 0.3.0
 * @category models
 */
export interface JobDataRow {
  readonly job: string
  readonly key: string
  readonly value: Json
}
