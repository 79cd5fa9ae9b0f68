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
 * | `list` | `GET /deployments?status=&application=&action=&limit=&cursor=` | 200 `DeploymentPageView` | 400, 409, 503 |
 * | `start` | `POST /deployments` `{ application, action, input, key? }` | 202 `Started` | 400, 404, 409, 503 |
 * | `get` | `GET /deployments/:id` | 200 `DeploymentView` | 400, 404, 409, 503 |
 * | `errors` | `GET /deployments/:id/errors?job=` | 200 `ErrorLogView` | 400, 404, 409, 503 |
 * | `stop` | `POST /deployments/:id/stop` | 202 `OperationAccepted` | 400, 404, 409, 503 |
 * | `prune` | `POST /prune` `{ olderThan }` | 200 `Pruned` | 400, 409, 503 |
 * | `events` | `GET /events?status=&application=&action=` | 200 `text/event-stream` of `DeploymentEvent` | 400 |
 *
 * Every error body is the error's own Schema encoding, with its `_tag`: `InvalidArgument` and
 * `InputValidationError` (400), `DeploymentNotFound` and `ActionNotFound` (404), `DeploymentNotRunning` and
 * `StoredDataCorrupt` (409), and `PersistenceError`, whose status follows its `reason`: `invalid` 400, `conflict`
 * 409, `connection`, `timeout` and `unknown` 503. A request whose parameters do not decode (a `limit` of 0, an
 * unknown status) is an `InvalidArgument` naming the parameter.
 *
 * The JSON form of a deployment (`DeploymentView`) is the `Deployment` model's, with two changes for readers of
 * JSON: an absent value (`Option.none()`) is an absent key, and timestamps are ISO 8601 strings in UTC. The CLI's
 * `--json` output uses the same Schemas.
 *
 * **Gotchas**
 *
 * This is an operator surface: it can stop any deployment and delete history. Never expose it unauthenticated;
 * see `docs/http.md` for putting your own authentication in front of it.
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
import { DeploymentStatus, JobPhase, JobStatus } from "./Deployment.ts"

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
  finishedAt: OptionalTimestamp
}).annotate({ identifier: "JobRun" })

/**
 * @since 0.2.0
 * @category views
 */
export type JobRunView = typeof JobRunView.Type

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
 * A deployment with every job's record, as `get` gives it. A `Deployment` is one.
 *
 * @since 0.2.0
 * @category views
 */
export const DeploymentView = Schema.Struct({ ...summaryFields, jobs: Schema.Array(JobRunView) }).annotate({
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
 * The operations an operator asks for, as they are named in `OperationAccepted` (more come with the runtime's
 * operator operations).
 *
 * @since 0.2.0
 * @category views
 */
export const Operation = Schema.Literals(["stop"])

/**
 * @since 0.2.0
 * @category views
 */
export type Operation = typeof Operation.Type

/**
 * An operation accepted for a deployment: it is recorded in the store, and the process that runs the deployment
 * carries it out (a stop rolls the deployment back there). Follow the outcome with `get` or the event stream.
 *
 * @since 0.2.0
 * @category views
 */
export const OperationAccepted = Schema.Struct({
  operation: Operation,
  deploymentId: Schema.String
}).annotate({ identifier: "OperationAccepted" })

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
 * The filter of `list` and of the event stream: any of several statuses (`status` repeated), an application,
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

// -----------------------------------------------------------------------------
// events
// -----------------------------------------------------------------------------

/**
 * A deployment appeared in the stream's view or changed (status, job, owner, lease, stop request, parking):
 * `deployment` is its current state; `previousStatus` is absent the first time the stream shows it.
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
      error: [
        InputValidationError.pipe(HttpApiSchema.status(400)),
        ActionNotFound.pipe(HttpApiSchema.status(404)),
        ...storeErrors
      ]
    }).annotate(OpenApi.Description, "Starts a deployment of a registered action by name, in the background"),
    HttpApiEndpoint.get("get", "/deployments/:id", {
      params: id,
      success: DeploymentView,
      error: [notFound, corrupt, ...storeErrors]
    }).annotate(OpenApi.Description, "A deployment with every job's record"),
    HttpApiEndpoint.get("errors", "/deployments/:id/errors", {
      params: id,
      query: { job: Schema.optional(Schema.String) },
      success: ErrorLogView,
      error: [notFound, corrupt, ...storeErrors]
    }).annotate(OpenApi.Description, "A deployment's error log, or one job's part of it"),
    HttpApiEndpoint.post("stop", "/deployments/:id/stop", {
      params: id,
      success: OperationAccepted.pipe(HttpApiSchema.status(202)),
      error: [
        notFound,
        DeploymentNotRunning.pipe(HttpApiSchema.status(409)),
        OperationRefused.pipe(HttpApiSchema.status(409)),
        corrupt,
        ...storeErrors
      ]
    }).annotate(OpenApi.Description, "Stops a running deployment wherever it runs: its jobs roll back"),
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
  .annotate(OpenApi.Description, "Operating deployments: find, inspect, stop, prune, follow")
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
