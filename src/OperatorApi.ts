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
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import {
  ActionNotFound,
  DeploymentNotFound,
  DeploymentNotRunning,
  OperationRefused,
  InputValidationError,
  StoredDataCorrupt
} from "./ActionError.ts"
import { RequestValidation, storeErrors } from "./internal/api/errors.ts"
import { SseEvent } from "./internal/api/events.ts"
import {
  BulkRequest,
  DeploymentFilter,
  ListQuery,
  PruneRequest,
  ReasonRequest,
  RestartRequest,
  RetryRequest,
  StartRequest
} from "./internal/api/requests.ts"
import {
  BulkResultView,
  DeploymentPageView,
  DeploymentView,
  ErrorLogView,
  JobDataView,
  OperationDone,
  OperationRequested,
  Pruned,
  Started,
  StatusCountsView
} from "./internal/api/views.ts"

// The Schemas of the API live in src/internal/api/, one module per part (views, requests, events, errors), each
// export documented there; they are exported from here, so that this module's exports are the API's whole surface.

// views: the JSON forms of the models (src/internal/api/views.ts)
export {
  FailureView,
  ParkedView,
  AttemptRunView,
  JobRunView,
  OperationRequestView,
  HistoryEntryView,
  DeploymentSummaryView,
  DeploymentView,
  DeploymentPageView,
  ErrorEntryView,
  ErrorLogView,
  JobDataView,
  StatusCountsView,
  Operation,
  BulkOperation,
  OperationReceipt,
  OperationDone,
  OperationRequested,
  OperationAccepted,
  BulkItemView,
  BulkResultView,
  Started,
  Pruned
} from "./internal/api/views.ts"

// requests: queries and bodies (src/internal/api/requests.ts)
export {
  PageLimit,
  DeploymentFilter,
  ListQuery,
  StartRequest,
  PruneRequest,
  ReasonRequest,
  RetryRequest,
  RestartRequest,
  BulkFilterRequest,
  BulkRequest
} from "./internal/api/requests.ts"

// events: the event stream (src/internal/api/events.ts)
export {
  DeploymentChanged,
  JobChanged,
  DeploymentRemoved,
  Heartbeat,
  DeploymentEvent,
  eventName,
  SseEvent
} from "./internal/api/events.ts"

// errors and their status codes (src/internal/api/errors.ts)
export {
  StoreRefused,
  StoreConflict,
  StoreUnavailable,
  RequestValidation
} from "./internal/api/errors.ts"

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
