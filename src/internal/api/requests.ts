/**
 * The operator API's requests: the query of `list`, the filter of the event stream, and the bodies of `start`,
 * `prune`, the operations and `bulk`, as `OperatorApi` exports them.
 *
 * @internal
 */
import { Schema } from "effect"
import { DeploymentStatus } from "../../Deployment.ts"
import { BulkOperation, Timestamp } from "./views.ts"

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
