/**
 * The operator API's views: the JSON forms of the models (a deployment, its job records, history, errors, job data,
 * counts), the operations' receipts and the bulk results, as `OperatorApi` exports them. An absent value
 * (`Option.none()`) is an absent key, and timestamps are ISO 8601 strings in UTC.
 *
 * @internal
 */
import { Schema } from "effect"
import { StoredDataCorrupt } from "../../ActionError.ts"
import { DeploymentStatus, JobPhase, JobStatus, Operation as OperationModel, OperationOutcome } from "../../Deployment.ts"

/** A timestamp of a view: an ISO 8601 string in UTC. */
export const Timestamp = Schema.DateTimeUtcFromString
/** An optional timestamp of a view: an absent key when there is none. */
const OptionalTimestamp = Schema.OptionFromOptionalKey(Schema.DateTimeUtcFromString)

/**
 * The failure that made a deployment roll back (`Deployment.Failure`), as JSON.
 *
 * @since 0.2.0
 * @category views
 */
export const FailureView = Schema.Struct({
  job: Schema.String,
  jobIndex: Schema.Int,
  phase: JobPhase,
  tag: Schema.String,
  message: Schema.String,
  detail: Schema.OptionFromOptionalKey(Schema.Json)
}).annotate({ identifier: "Failure" })

/**
 * Why a deployment is parked (`Deployment.Parked`), as JSON.
 *
 * @since 0.2.0
 * @category views
 */
export const ParkedView = Schema.Struct({
  job: Schema.OptionFromOptionalKey(Schema.String),
  field: Schema.String,
  issue: Schema.String,
  at: Timestamp
}).annotate({ identifier: "Parked" })

/**
 * An attempt of a job before its last one (`Deployment.AttemptRun`), as JSON.
 *
 * @since 0.3.0
 * @category views
 */
export const AttemptRunView = Schema.Struct({
  attempt: Schema.Int,
  startedAt: Timestamp,
  finishedAt: OptionalTimestamp
}).annotate({ identifier: "AttemptRun" })

/**
 * One job's record (`Deployment.JobRun`), as JSON: `input` and `output` are the job's encoded values.
 *
 * @since 0.2.0
 * @category views
 */
export const JobRunView = Schema.Struct({
  index: Schema.Int,
  name: Schema.String,
  status: JobStatus,
  input: Schema.OptionFromOptionalKey(Schema.Json),
  output: Schema.OptionFromOptionalKey(Schema.Json),
  attempts: Schema.Int,
  startedAt: OptionalTimestamp,
  finishedAt: OptionalTimestamp,
  rollbackStartedAt: OptionalTimestamp,
  rollbackFinishedAt: OptionalTimestamp,
  /** The attempts before the last one (whose times are `startedAt` and `finishedAt`), in order. */
  earlierAttempts: Schema.Array(AttemptRunView)
}).annotate({ identifier: "JobRun" })

/**
 * @since 0.2.0
 * @category views
 */
export type JobRunView = typeof JobRunView.Type

/**
 * An operation requested by a process without the action's code (`Deployment.OperationRequest`), as JSON, pending
 * until a process that has the action carries it out or refuses it.
 *
 * @since 0.3.0
 * @category views
 */
export const OperationRequestView = Schema.Struct({
  id: Schema.String,
  operation: OperationModel,
  by: Schema.String,
  at: Timestamp,
  reason: Schema.OptionFromOptionalKey(Schema.String),
  input: Schema.OptionFromOptionalKey(Schema.Json),
  restartId: Schema.OptionFromOptionalKey(Schema.String),
  key: Schema.OptionFromOptionalKey(Schema.String)
}).annotate({ identifier: "OperationRequest" })

/**
 * One entry of a deployment's history of operators' operations (`Deployment.HistoryEntry`), as JSON.
 *
 * @since 0.3.0
 * @category views
 */
export const HistoryEntryView = Schema.Struct({
  sequence: Schema.Int,
  operation: OperationModel,
  outcome: OperationOutcome,
  by: Schema.String,
  at: Timestamp,
  reason: Schema.OptionFromOptionalKey(Schema.String),
  job: Schema.OptionFromOptionalKey(Schema.String),
  message: Schema.OptionFromOptionalKey(Schema.String),
  detail: Schema.OptionFromOptionalKey(Schema.Json)
}).annotate({ identifier: "HistoryEntry" })

/**
 * @since 0.3.0
 * @category views
 */
export type HistoryEntryView = typeof HistoryEntryView.Type

const summaryFields = {
  id: Schema.String,
  application: Schema.String,
  action: Schema.String,
  key: Schema.OptionFromOptionalKey(Schema.String),
  fingerprint: Schema.String,
  status: DeploymentStatus,
  currentJob: Schema.Int,
  state: Schema.OptionFromOptionalKey(Schema.Json),
  output: Schema.OptionFromOptionalKey(Schema.Json),
  failure: Schema.OptionFromOptionalKey(FailureView),
  owner: Schema.OptionFromOptionalKey(Schema.String),
  leaseEpoch: Schema.Int,
  leaseExpiresAt: OptionalTimestamp,
  stopRequested: Schema.Boolean,
  resumes: Schema.Int,
  parked: Schema.OptionFromOptionalKey(ParkedView),
  restartOf: Schema.OptionFromOptionalKey(Schema.String),
  request: Schema.OptionFromOptionalKey(OperationRequestView),
  createdAt: Timestamp,
  updatedAt: Timestamp
}

/**
 * A deployment without its job records, as `list` and the event stream give it. A `Deployment` is one.
 *
 * @since 0.2.0
 * @category views
 */
export const DeploymentSummaryView = Schema.Struct(summaryFields).annotate({ identifier: "DeploymentSummary" })

/**
 * @since 0.2.0
 * @category views
 */
export type DeploymentSummaryView = typeof DeploymentSummaryView.Type

/**
 * A deployment with every job's record and its history of operators' operations, as `get` gives it. A
 * `Deployment` is one.
 *
 * @since 0.2.0
 * @category views
 */
export const DeploymentView = Schema.Struct({
  ...summaryFields,
  jobs: Schema.Array(JobRunView),
  history: Schema.Array(HistoryEntryView)
}).annotate({
  identifier: "Deployment"
})

/**
 * @since 0.2.0
 * @category views
 */
export type DeploymentView = typeof DeploymentView.Type

/**
 * A page of `list`, newest first: `next` is the cursor of the next page (absent on the last page); `unreadable`
 * reports the rows of the page whose stored data does not decode.
 *
 * @since 0.2.0
 * @category views
 */
export const DeploymentPageView = Schema.Struct({
  items: Schema.Array(DeploymentSummaryView),
  next: Schema.OptionFromOptionalKey(Schema.String),
  unreadable: Schema.Array(StoredDataCorrupt)
}).annotate({ identifier: "DeploymentPage" })

/**
 * @since 0.2.0
 * @category views
 */
export type DeploymentPageView = typeof DeploymentPageView.Type

/**
 * One entry of a deployment's error log (`Deployment.ErrorEntry`), as JSON.
 *
 * @since 0.2.0
 * @category views
 */
export const ErrorEntryView = Schema.Struct({
  sequence: Schema.Int,
  job: Schema.OptionFromOptionalKey(Schema.String),
  phase: JobPhase,
  tag: Schema.String,
  message: Schema.String,
  detail: Schema.OptionFromOptionalKey(Schema.Json),
  at: Timestamp
}).annotate({ identifier: "ErrorEntry" })

/**
 * A deployment's error log, in the order it was written.
 *
 * @since 0.2.0
 * @category views
 */
export const ErrorLogView = Schema.Struct({
  deploymentId: Schema.String,
  items: Schema.Array(ErrorEntryView)
}).annotate({ identifier: "ErrorLog" })

/**
 * A deployment's job data entries (`JobContext.setData`), by job then key, each value in its stored JSON form.
 *
 * @since 0.3.0
 * @category views
 */
export const JobDataView = Schema.Struct({
  deploymentId: Schema.String,
  items: Schema.Array(Schema.Struct({ job: Schema.String, key: Schema.String, value: Schema.Json }))
}).annotate({ identifier: "JobData" })

/**
 * How many deployments are in each status (`Actions.counts`): each count stops at `atMost`, so a count equal to
 * it means "at least this many".
 *
 * @since 0.3.0
 * @category views
 */
export const StatusCountsView = Schema.Struct({
  counts: Schema.Struct({
    running: Schema.Int,
    paused: Schema.Int,
    rolling_back: Schema.Int,
    rollback_failed: Schema.Int,
    rolled_back: Schema.Int,
    succeeded: Schema.Int
  }),
  atMost: Schema.Int
}).annotate({ identifier: "StatusCounts" })

/**
 * The operations an operator applies to a deployment, as the JSON bodies name them: `stop`, `retry`, `rollback`,
 * `retry_rollback`, `restart` (the model's `Deployment.Operation`).
 *
 * @since 0.2.0
 * @category views
 */
export const Operation = OperationModel

/**
 * @since 0.2.0
 * @category views
 */
export type Operation = typeof Operation.Type

/**
 * The operations `bulk` applies: every operation but `restart`.
 *
 * @since 0.3.0
 * @category views
 */
export const BulkOperation = Schema.Literals(["stop", "retry", "rollback", "retry_rollback"])

/**
 * @since 0.3.0
 * @category views
 */
export type BulkOperation = typeof BulkOperation.Type

const receiptFields = {
  deploymentId: Schema.String,
  operation: Operation,
  /** `restart`: the id of the new deployment. */
  restartedAs: Schema.OptionFromOptionalKey(Schema.String)
}

/**
 * What an operation did (`Actions.OperationReceipt`), as JSON: `outcome` is `done` when the serving process carried
 * it out, `requested` when it recorded a request that a process that has the action carries out.
 *
 * @since 0.3.0
 * @category views
 */
export const OperationReceipt = Schema.Struct({
  deploymentId: receiptFields.deploymentId,
  operation: receiptFields.operation,
  outcome: Schema.Literals(["done", "requested"]),
  restartedAs: receiptFields.restartedAs
}).annotate({ identifier: "OperationReceipt" })

/**
 * @since 0.3.0
 * @category views
 */
export type OperationReceipt = typeof OperationReceipt.Type

/**
 * A receipt of outcome `done`, answered with 200.
 *
 * @since 0.3.0
 * @category views
 */
export const OperationDone = Schema.Struct({
  deploymentId: receiptFields.deploymentId,
  operation: receiptFields.operation,
  outcome: Schema.Literal("done"),
  restartedAs: receiptFields.restartedAs
}).annotate({ identifier: "OperationDone", description: "The serving process carried the operation out" })

/**
 * A receipt of outcome `requested`, answered with 202.
 *
 * @since 0.3.0
 * @category views
 */
export const OperationRequested = Schema.Struct({
  deploymentId: receiptFields.deploymentId,
  operation: receiptFields.operation,
  outcome: Schema.Literal("requested"),
  restartedAs: receiptFields.restartedAs
}).annotate({
  identifier: "OperationRequested",
  description: "The serving process lacks the action: the request is stored, and a process that has it carries it out"
})

/**
 * An operation accepted for a deployment, as `stop` answered it before 0.3.0.
 *
 * @deprecated `stop` answers an `OperationReceipt` (which has these fields) since 0.3.0.
 * @since 0.2.0
 * @category views
 */
export const OperationAccepted = Schema.Struct({
  operation: Operation,
  deploymentId: Schema.String
}).annotate({ identifier: "OperationAccepted" })

/**
 * What a bulk operation did to one deployment (`Actions.BulkItem`): `refused` with the reason in `message`.
 *
 * @since 0.3.0
 * @category views
 */
export const BulkItemView = Schema.Struct({
  deploymentId: Schema.String,
  outcome: Schema.Literals(["done", "requested", "refused"]),
  message: Schema.OptionFromOptionalKey(Schema.String)
}).annotate({ identifier: "BulkItem" })

/**
 * What a bulk operation did (`Actions.BulkResult`): how many deployments matched, their ids, and one item per
 * deployment (none on a dry run).
 *
 * @since 0.3.0
 * @category views
 */
export const BulkResultView = Schema.Struct({
  operation: BulkOperation,
  dryRun: Schema.Boolean,
  matched: Schema.Int,
  ids: Schema.Array(Schema.String),
  items: Schema.Array(BulkItemView)
}).annotate({ identifier: "BulkResult" })

/**
 * @since 0.3.0
 * @category views
 */
export type BulkResultView = typeof BulkResultView.Type

/**
 * A deployment started by name: it runs in the background of the serving process.
 *
 * @since 0.2.0
 * @category views
 */
export const Started = Schema.Struct({ deploymentId: Schema.String }).annotate({ identifier: "Started" })

/**
 * How many finished deployments `prune` deleted.
 *
 * @since 0.2.0
 * @category views
 */
export const Pruned = Schema.Struct({ pruned: Schema.Int }).annotate({ identifier: "Pruned" })
