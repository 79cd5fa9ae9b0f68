/**
 * The operator API's event stream: the events a watcher of deployments receives (a deployment or a job changed, a
 * deployment was removed, a heartbeat) and their server-sent form, as `OperatorApi` exports them.
 *
 * @internal
 */
import { Schema } from "effect"
import { DeploymentStatus, JobStatus } from "../../Deployment.ts"
import { DeploymentSummaryView, JobRunView, Timestamp } from "./views.ts"

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
