/**
 * The operator HTTP API, as a definition: its endpoints, the Schemas of their requests and responses, its errors
 * with their status codes, and the event stream's events. No server code lives here, so a client (a dashboard,
 * a script, a test) imports it and calls the API with `HttpApiClient.make(OperatorApi.Api)`; `OperatorHttp`
 * implements it on the `Actions` service.
 *
 * **Details**
 *
 * Paths are relative to where the API is mounted (`OperatorHttp.layer({ prefix })`):
 *
 * | endpoint | method and path | success | errors |
 * |---|---|---|---|
 * | `list` | `GET /deployments?status=&application=&action=&key=&createdBefore=&createdAfter=&limit=&cursor=` | 200 `DeploymentPageView` | 400, 409, 503 |
 * | `start` | `POST /deployments` `{ application, action, input, key? }` | 202 `Started` | 400, 404, 409, 503 |
 * | `get` | `GET /deployments/:id` | 200 `DeploymentView` | 400, 404, 409, 503 |
 * | `errors` | `GET /deployments/:id/errors?job=` | 200 `ErrorLogView` | 400, 404, 409, 503 |
 * | `data` | `GET /deployments/:id/data` | 200 `JobDataView` | 400, 404, 503 |
 * | `counts` | `GET /counts?application=&action=` | 200 `StatusCountsView` | 400, 503 |
 * | `stop` | `POST /deployments/:id/stop` `{ reason? }` | 200 or 202 `OperationReceipt` | 400, 404, 409, 503 |
 * | `retry` | `POST /deployments/:id/retry` `{ input?, reason? }` | 200 or 202 `OperationReceipt` | 400, 404, 409, 503 |
 * | `rollback` | `POST /deployments/:id/rollback` `{ reason? }` | 200 or 202 `OperationReceipt` | 400, 404, 409, 503 |
 * | `retryRollback` | `POST /deployments/:id/retry-rollback` `{ reason? }` | 200 or 202 `OperationReceipt` | 400, 404, 409, 503 |
 * | `restart` | `POST /deployments/:id/restart` `{ key?, reason? }` | 200 or 202 `OperationReceipt` | 400, 404, 409, 503 |
 * | `bulk` | `POST /bulk` `{ operation, filter?, dryRun?, reason? }` | 200 `BulkResultView` | 400, 409, 503 |
 * | `prune` | `POST /prune` `{ olderThan }` | 200 `Pruned` | 400, 409, 503 |
 * | `events` | `GET /events?status=&application=&action=` | 200 `text/event-stream` of `DeploymentEvent` | 400 |
 *
 * An operation's receipt says what the serving process did: `done` (200) when it carried the operation out (it has
 * the action registered, or the operation needs no action code: the stop of a running deployment), `requested`
 * (202) when it only recorded a request on the deployment, which a process that has the action carries out at its
 * next recovery pass; the deployment's `request` and `history` tell when it has. The bodies of the operations are
 * optional: an empty body (or `null`) is `{}`.
 *
 * Every error body is the error's own Schema encoding, with its `_tag`: `InvalidArgument` and
 * `InputValidationError` (400), `DeploymentNotFound` and `ActionNotFound` (404), `DeploymentNotRunning`,
 * `OperationRefused` and `StoredDataCorrupt` (409), and `PersistenceError`, whose status follows its `reason`:
 * `invalid` 400, `conflict` 409, `connection`, `timeout` and `unknown` 503. A request whose parameters do not
 * decode (a `limit` of 0, an unknown status) is an `InvalidArgument` naming the parameter.
 *
 * The JSON form of a deployment (`DeploymentView`) is the `Deployment` model's (its history and pending request
 * included), with two changes for readers of JSON: an absent value (`Option.none()`) is an absent key, and
 * timestamps are ISO 8601 strings in UTC. The CLI's `--json` output uses the same Schemas.
 *
 * **Gotchas**
 *
 * This is an operator surface: it can stop, retry, roll back and restart any deployment, and delete history.
 * Never expose it unauthenticated; see `docs/http.md` for putting your own authentication in front of it.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, OpenApi } from "effect/http-api"
import {
  ActionNotFound,
  DeploymentNotFound,
  DeploymentNotRunning,
  OperationRefused,
  InputValidationError,
  InvalidArgument,
  PersistenceError,
  type PersistenceErrorReason,
  StoredDataCorrupt
} from "./ActionError.ts"
import { DeploymentStatus, JobPhase, JobStatus, Operation as OperationModel, OperationOutcome } from "./Deployment.ts"

// -----------------------------------------------------------------------------
// views: the JSON forms of the models
// -----------------------------------------------------------------------------

const Timestamp = Schema.DateTimeUtcFromString
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

// -----------------------------------------------------------------------------
// requests
// -----------------------------------------------------------------------------

/**
 * A page size of `list`: an integer from 1 to 1000.
 *
 * @since 0.2.0
 * @category requests
 */
export const PageLimit = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))

/**
 * The filter of `list` and of the event stream: one or more statuses (`status` repeated), an application,
 * an action.
 *
 * @since 0.2.0
 * @category requests
 */
export const DeploymentFilter = {
  status: Schema.optional(Schema.Array(DeploymentStatus)),
  application: Schema.optional(Schema.String),
  action: Schema.optional(Schema.String)
}

/**
 * The query of `list`.
 *
 * @since 0.2.0
 * @category requests
 */
export const ListQuery = {
  ...DeploymentFilter,
  key: Schema.optional(Schema.String),
  createdBefore: Schema.optional(Timestamp),
  createdAfter: Schema.optional(Timestamp),
  limit: Schema.optional(PageLimit),
  cursor: Schema.optional(Schema.String)
}

/**
 * The body of `start`: the action by names, its first job's input (decoded by that job's input schema), and the
 * caller's key (at most one deployment per `(application, action, key)`).
 *
 * @since 0.2.0
 * @category requests
 */
export const StartRequest = Schema.Struct({
  application: Schema.String,
  action: Schema.String,
  input: Schema.Json,
  key: Schema.optionalKey(Schema.String)
}).annotate({ identifier: "StartRequest" })

/**
 * The body of `prune`: how old (since their last update) finished deployments must be to be deleted, as
 * `30d`, `12h`, `15m`, `90s`, `500ms`, `2w` or `"30 days"`.
 *
 * @since 0.2.0
 * @category requests
 */
export const PruneRequest = Schema.Struct({ olderThan: Schema.String }).annotate({ identifier: "PruneRequest" })

/** Why the operator acts: kept in the deployment's history (at most 4,096 characters). */
const reason = Schema.optionalKey(Schema.String)

/**
 * The body of `stop`, `rollback` and `retryRollback`: an optional reason.
 *
 * @since 0.3.0
 * @category requests
 */
export const ReasonRequest = Schema.Struct({ reason }).annotate({ identifier: "ReasonRequest" })

/**
 * The body of `retry`: an optional replacement input for the failed job, in its encoded (JSON) form, decoded by
 * the job's input schema (`null` is an input like any other; an absent key keeps the job's own), and a reason.
 *
 * @since 0.3.0
 * @category requests
 */
export const RetryRequest = Schema.Struct({ input: Schema.optionalKey(Schema.Json), reason }).annotate({
  identifier: "RetryRequest"
})

/**
 * The body of `restart`: the new deployment's key (none by default), and a reason.
 *
 * @since 0.3.0
 * @category requests
 */
export const RestartRequest = Schema.Struct({ key: Schema.optionalKey(Schema.String), reason }).annotate({
  identifier: "RestartRequest"
})

/**
 * The deployments a bulk operation applies to; an absent field does not filter. `statuses` defaults to the
 * statuses the operation applies to; the times are ISO 8601 (`createdBefore` exclusive, `createdAfter` inclusive).
 *
 * @since 0.3.0
 * @category requests
 */
export const BulkFilterRequest = Schema.Struct({
  statuses: Schema.optionalKey(Schema.Array(DeploymentStatus)),
  application: Schema.optionalKey(Schema.String),
  action: Schema.optionalKey(Schema.String),
  createdBefore: Schema.optionalKey(Timestamp),
  createdAfter: Schema.optionalKey(Timestamp)
}).annotate({ identifier: "BulkFilter" })

/**
 * The body of `bulk`: the operation, the filter, whether only to count and list (`dryRun`, false by default), and
 * a reason.
 *
 * @since 0.3.0
 * @category requests
 */
export const BulkRequest = Schema.Struct({
  operation: BulkOperation,
  filter: Schema.optionalKey(BulkFilterRequest),
  dryRun: Schema.optionalKey(Schema.Boolean),
  reason
}).annotate({ identifier: "BulkRequest" })

// -----------------------------------------------------------------------------
// events
// -----------------------------------------------------------------------------

/**
 * A deployment appeared in the stream's view or changed (status, job, owner, lease, stop request, pending request,
 * parking): `deployment` is its current state; `previousStatus` is absent the first time the stream shows it.
 *
 * @since 0.2.0
 * @category events
 */
export const DeploymentChanged = Schema.TaggedStruct("DeploymentChanged", {
  deployment: DeploymentSummaryView,
  previousStatus: Schema.OptionFromOptionalKey(DeploymentStatus)
}).annotate({ identifier: "DeploymentChanged" })

/**
 * A job of a deployment changed (status or attempts): `job` is its current record; `previousStatus` is absent
 * the first time the stream shows the job.
 *
 * @since 0.2.0
 * @category events
 */
export const JobChanged = Schema.TaggedStruct("JobChanged", {
  deploymentId: Schema.String,
  job: JobRunView,
  previousStatus: Schema.OptionFromOptionalKey(JobStatus)
}).annotate({ identifier: "JobChanged" })

/**
 * A deployment the stream showed no longer exists (it was pruned).
 *
 * @since 0.2.0
 * @category events
 */
export const DeploymentRemoved = Schema.TaggedStruct("DeploymentRemoved", {
  deploymentId: Schema.String
}).annotate({ identifier: "DeploymentRemoved" })

/**
 * Sent at a fixed interval whatever happens, so that proxies keep the connection open and a client can tell a
 * quiet stream from a dead one.
 *
 * @since 0.2.0
 * @category events
 */
export const Heartbeat = Schema.TaggedStruct("Heartbeat", { at: Timestamp }).annotate({ identifier: "Heartbeat" })

/**
 * What the event stream carries.
 *
 * @since 0.2.0
 * @category events
 */
export const DeploymentEvent = Schema.Union([DeploymentChanged, JobChanged, DeploymentRemoved, Heartbeat])

/**
 * @since 0.2.0
 * @category events
 */
export type DeploymentEvent = typeof DeploymentEvent.Type

/**
 * The SSE event name of each event (`event:` line), for `EventSource.addEventListener`.
 *
 * @since 0.2.0
 * @category events
 */
export const eventName: { readonly [Tag in DeploymentEvent["_tag"]]: string } = {
  DeploymentChanged: "deployment",
  JobChanged: "job",
  DeploymentRemoved: "removed",
  Heartbeat: "heartbeat"
}

const sseEvent = <S extends Schema.Codec<DeploymentEvent, unknown>>(name: string, data: S) =>
  Schema.Struct({
    id: Schema.optional(Schema.String),
    event: Schema.Literal(name),
    data: Schema.fromJsonString(data)
  })

/**
 * One server-sent event: its name (`deployment`, `job`, `removed`, `heartbeat`) and its JSON data.
 *
 * @since 0.2.0
 * @category events
 */
export const SseEvent = Schema.Union([
  sseEvent(eventName.DeploymentChanged, DeploymentChanged),
  sseEvent(eventName.JobChanged, JobChanged),
  sseEvent(eventName.DeploymentRemoved, DeploymentRemoved),
  sseEvent(eventName.Heartbeat, Heartbeat)
])

/**
 * @since 0.2.0
 * @category events
 */
export type SseEvent = typeof SseEvent.Type

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

const persistenceError = (reasons: ReadonlyArray<PersistenceErrorReason>, status: number, description: string) =>
  PersistenceError.pipe(
    Schema.check(
      Schema.makeFilter((error: PersistenceError) =>
        reasons.includes(error.reason) || `a persistence error of reason ${reasons.join(" or ")}`
      )
    ),
    HttpApiSchema.status(status)
  ).annotate({ description })

/**
 * A `PersistenceError` of reason `invalid`: the store refused what was sent (a cursor it did not make, a value
 * it cannot hold). 400.
 *
 * @since 0.2.0
 * @category errors
 */
export const StoreRefused = persistenceError(["invalid"], 400, "The store refused the request's data")

/**
 * A `PersistenceError` of reason `conflict`: a write lost a race; retrying may succeed. 409.
 *
 * @since 0.2.0
 * @category errors
 */
export const StoreConflict = persistenceError(["conflict"], 409, "A write lost a race in the store; retry")

/**
 * A `PersistenceError` of reason `connection`, `timeout` or `unknown`: the store is unavailable. 503.
 *
 * @since 0.2.0
 * @category errors
 */
export const StoreUnavailable = persistenceError(
  ["connection", "timeout", "unknown"],
  503,
  "The store is unavailable"
)

const storeErrors = [StoreRefused, StoreConflict, StoreUnavailable] as const

/**
 * Turns a request that does not decode (parameters, query, body) into an `InvalidArgument` (400) that names the
 * parameter and the issue, instead of an empty 400.
 *
 * @since 0.2.0
 * @category middleware
 */
export class RequestValidation extends HttpApiMiddleware.Service<RequestValidation>()(
  "effect-actions/OperatorApi/RequestValidation",
  { error: InvalidArgument.pipe(HttpApiSchema.status(400)) }
) {}

// -----------------------------------------------------------------------------
// the API
// -----------------------------------------------------------------------------

const id = { id: Schema.String }
const notFound = DeploymentNotFound.pipe(HttpApiSchema.status(404))
const corrupt = StoredDataCorrupt.pipe(HttpApiSchema.status(409))
const refused = OperationRefused.pipe(HttpApiSchema.status(409))
const invalidInput = InputValidationError.pipe(HttpApiSchema.status(400))
/** A receipt's status follows its outcome: 200 `done`, 202 `requested`. */
const receipts = [
  OperationDone.pipe(HttpApiSchema.status(200)),
  OperationRequested.pipe(HttpApiSchema.status(202))
] as const
/** An operation's body may be left out: an empty body decodes as `null` (and so does a JSON `null`). */
const optionalBody = <S extends Schema.Top>(body: S) => [body, Schema.Null] as const

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The OpenAPI operation of an endpoint whose body may be left out: the body is not required, and its schema is the
 * object alone (the generator documents the decoder's `null` for an empty body as a second alternative).
 */
const documentOptionalBody = (operation: Record<string, unknown>): Record<string, unknown> => {
  const body = operation.requestBody
  if (!isRecord(body) || !isRecord(body.content)) return operation
  const json = body.content["application/json"]
  if (!isRecord(json) || !isRecord(json.schema) || !Array.isArray(json.schema.anyOf)) return operation
  const objects = json.schema.anyOf.filter((schema: unknown) => !(isRecord(schema) && schema.type === "null"))
  if (objects.length !== 1) return operation
  return {
    ...operation,
    requestBody: {
      ...body,
      required: false,
      content: { ...body.content, "application/json": { ...json, schema: objects[0] } }
    }
  }
}

/**
 * The operator endpoints, as one `HttpApiGroup` named `operator`.
 *
 * @since 0.2.0
 * @category api
 */
export class OperatorGroup extends HttpApiGroup.make("operator")
  .add(
    HttpApiEndpoint.get("list", "/deployments", {
      query: ListQuery,
      success: DeploymentPageView,
      error: [...storeErrors]
    }).annotate(OpenApi.Description, "Deployments, newest first, filtered and paginated (without job records)"),
    HttpApiEndpoint.post("start", "/deployments", {
      payload: StartRequest,
      success: Started.pipe(HttpApiSchema.status(202)),
      error: [invalidInput, ActionNotFound.pipe(HttpApiSchema.status(404)), ...storeErrors]
    }).annotate(OpenApi.Description, "Starts a deployment of a registered action by name, in the background"),
    HttpApiEndpoint.get("get", "/deployments/:id", {
      params: id,
      success: DeploymentView,
      error: [notFound, corrupt, ...storeErrors]
    }).annotate(OpenApi.Description, "A deployment with every job's record and its history of operations"),
    HttpApiEndpoint.get("errors", "/deployments/:id/errors", {
      params: id,
      query: { job: Schema.optional(Schema.String) },
      success: ErrorLogView,
      error: [notFound, corrupt, ...storeErrors]
    }).annotate(OpenApi.Description, "A deployment's error log, or one job's part of it"),
    HttpApiEndpoint.get("data", "/deployments/:id/data", {
      params: id,
      success: JobDataView,
      error: [notFound, ...storeErrors]
    }).annotate(OpenApi.Description, "A deployment's job data entries (JobContext.setData), by job then key"),
    HttpApiEndpoint.get("counts", "/counts", {
      query: { application: Schema.optional(Schema.String), action: Schema.optional(Schema.String) },
      success: StatusCountsView,
      error: [...storeErrors]
    }).annotate(OpenApi.Description, "How many deployments are in each status (each count stops at atMost)"),
    HttpApiEndpoint.post("stop", "/deployments/:id/stop", {
      params: id,
      payload: optionalBody(ReasonRequest),
      success: receipts,
      error: [notFound, DeploymentNotRunning.pipe(HttpApiSchema.status(409)), refused, corrupt, ...storeErrors]
    }).annotate(OpenApi.Transform, documentOptionalBody).annotate(
      OpenApi.Description,
      "Stops a running deployment wherever it runs (its jobs roll back), or rolls a paused one back with ExecutionStopped"
    ),
    HttpApiEndpoint.post("retry", "/deployments/:id/retry", {
      params: id,
      payload: optionalBody(RetryRequest),
      success: receipts,
      error: [notFound, refused, invalidInput, corrupt, ...storeErrors]
    }).annotate(OpenApi.Transform, documentOptionalBody).annotate(
      OpenApi.Description,
      "Runs the failed job of a paused deployment again, with its own input or a replacement, then goes on forward"
    ),
    HttpApiEndpoint.post("rollback", "/deployments/:id/rollback", {
      params: id,
      payload: optionalBody(ReasonRequest),
      success: receipts,
      error: [notFound, refused, corrupt, ...storeErrors]
    }).annotate(OpenApi.Transform, documentOptionalBody).annotate(
      OpenApi.Description,
      "Rolls a paused deployment back, as if its failed job had failed now"
    ),
    HttpApiEndpoint.post("retryRollback", "/deployments/:id/retry-rollback", {
      params: id,
      payload: optionalBody(ReasonRequest),
      success: receipts,
      error: [notFound, refused, corrupt, ...storeErrors]
    }).annotate(OpenApi.Transform, documentOptionalBody).annotate(
      OpenApi.Description,
      "Runs the failed rollbacks of a rollback_failed deployment again, in reverse order"
    ),
    HttpApiEndpoint.post("restart", "/deployments/:id/restart", {
      params: id,
      payload: optionalBody(RestartRequest),
      success: receipts,
      error: [notFound, refused, invalidInput, corrupt, ...storeErrors]
    }).annotate(OpenApi.Transform, documentOptionalBody).annotate(
      OpenApi.Description,
      "Starts a new deployment of a finished deployment's action with the same first input, linked to it (restartOf)"
    ),
    HttpApiEndpoint.post("bulk", "/bulk", {
      payload: BulkRequest,
      success: BulkResultView,
      error: [...storeErrors]
    }).annotate(
      OpenApi.Description,
      "Applies stop, retry, rollback or retry_rollback to every deployment matching a filter; dryRun only counts and lists them"
    ),
    HttpApiEndpoint.post("prune", "/prune", {
      payload: PruneRequest,
      success: Pruned,
      error: [...storeErrors]
    }).annotate(OpenApi.Description, "Deletes finished deployments last updated longer ago than olderThan"),
    HttpApiEndpoint.get("events", "/events", {
      query: DeploymentFilter,
      success: HttpApiSchema.StreamSse({ events: SseEvent })
    }).annotate(
      OpenApi.Description,
      "Server-sent events: the current state of the newest deployments matching the filter, then their changes, and heartbeats"
    )
  )
  .middleware(RequestValidation)
  .annotate(
    OpenApi.Description,
    "Operating deployments: find, inspect, stop, retry, roll back, restart (one or in bulk), prune, follow"
  )
{}

/**
 * The operator API: the `operator` group, titled for its OpenAPI document.
 *
 * @since 0.2.0
 * @category api
 */
export class Api extends HttpApi.make("effect-actions").add(OperatorGroup).annotateMerge(
  OpenApi.annotations({
    title: "effect-actions operator API",
    description: "An operator surface over effect-actions deployments. Never expose it unauthenticated."
  })
) {}
