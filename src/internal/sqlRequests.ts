/**
 * The statements of the SQL deployment store for requested operations and the history: `requestOperation`,
 * `findRequests`, `recordOperation` and `history`. Each is one statement (see `sqlOperations.ts` for how their
 * conditions hold under concurrent writers).
 *
 * @internal
 */
import { Effect, Schema } from "effect"
import type { SqlClient, Statement } from "effect/sql"
import type { PersistenceError } from "../ActionError.ts"
import { DeploymentStatus } from "../Deployment.ts"
import type {
  DeploymentRow,
  HistoryRow,
  NewHistoryRow,
  OperationRequestResult,
  OperationRequestWrite,
  RequestQuery
} from "../DeploymentStore.ts"
import { type Columns, millis } from "./sqlColumns.ts"
import { type OperationContext, retried } from "./sqlOperations.ts"
import { isUuid, jsonParam, storableRunnable } from "./sqlParams.ts"
import { decodeCount, decodeDeployment, decodeHistory, decodeOperationRequestResult } from "./sqlRows.ts"
import type { Tables } from "./sqlTables.ts"
import { unstorableValue } from "./storable.ts"

const isDeploymentStatus = Schema.is(DeploymentStatus)

/**
 * The `findRequests` statement (`undefined`: nothing to find): the deployments with a pending request, from the
 * partial index of those (`deployments_requests_idx`, a few rows at any time), oldest request first. A restart
 * request matches the action by name whatever its version (a restart runs the action as registered now); the
 * others need the deployment's own version. A function of its own, so that its plan can be checked
 * (`test/SqlDeploymentStore.plans.test.ts`).
 */
export const makeRequestsStatement = (sql: SqlClient.SqlClient, tables: Tables, columns: Columns) => {
  const deployments = sql(tables.deployments)
  return (query: RequestQuery): Statement.Statement<Record<string, unknown>> | undefined => {
    const runnable = storableRunnable(query.runnable)
    if (runnable.length === 0 || !(query.limit >= 1)) return undefined
    return sql`SELECT ${columns.deploymentColumns} FROM ${deployments} d
WHERE d.request IS NOT NULL AND d.parked IS NULL AND ${columns.runnableKeys(runnable)}
  AND EXISTS (
    SELECT 1 FROM ${columns.runnableRows(runnable)}
    WHERE r.application = d.application AND r.action = d.action
      AND (r.fingerprint = d.fingerprint OR d.request->>'operation' = 'restart')
  )
ORDER BY d.request->'at', d.created_at, d.id
LIMIT ${Math.min(Math.floor(query.limit), Number.MAX_SAFE_INTEGER)}::bigint`
  }
}

/** `requestOperation`: records an operation for the process that holds the deployment, with its history entry. */
const makeRequestOperation = (context: Omit<OperationContext, "leaseUntil" | "stopChannel">) =>
(write: OperationRequestWrite): Effect.Effect<OperationRequestResult, PersistenceError> => {
  const { columns, lockBound, run, sql, tables, writes } = context
  const deployments = sql(tables.deployments)
  const { at } = columns
  const refused = unstorableValue("requestOperation", write)
  if (refused !== undefined) return Effect.fail(refused)
  if (!isUuid(write.deploymentId)) return Effect.succeed({ _tag: "NotFound" })
  // Statuses are a closed set, written as literals; one that is not a status allows nothing.
  const statuses = [...new Set(write.statuses)].filter(isDeploymentStatus)
  const allowed = statuses.length === 0
    ? sql.literal("false")
    : sql.literal(`status IN (${statuses.map((status) => `'${status}'`).join(", ")})`)
  return retried(
    "requestOperation",
    run(
      "requestOperation",
      () =>
        sql`WITH requested AS (
  UPDATE ${deployments} SET request = ${jsonParam(write.request)}::jsonb, updated_at = ${at(write.request.at)}
  WHERE id = ${write.deploymentId}::uuid AND ${allowed} AND parked IS NULL AND request IS NULL AND ${lockBound}
  RETURNING id
), recorded AS (
  ${writes.historyInsert("requested", write.history)}
)
SELECT true AS requested, NULL::text AS status, NULL::text AS parked, NULL::text AS pending FROM requested
UNION ALL
SELECT false, d.status, d.parked::text, d.request::text FROM ${deployments} d
WHERE d.id = ${write.deploymentId}::uuid AND NOT EXISTS (SELECT 1 FROM requested)`,
      (rows) => decodeOperationRequestResult(rows, statuses)
    )
  )
}

/** Builds the requested operations and the history for one store. */
export const makeRequests = (context: Omit<OperationContext, "leaseUntil" | "stopChannel">) => {
  const { columns, lockBound, run, sql, tables, writes } = context
  const deployments = sql(tables.deployments)
  const history = sql(tables.history)

  const requestOperation = makeRequestOperation(context)

  const requestsStatement = makeRequestsStatement(sql, tables, columns)
  const findRequests = (query: RequestQuery): Effect.Effect<ReadonlyArray<DeploymentRow>, PersistenceError> => {
    const statement = requestsStatement(query)
    return statement === undefined
      ? Effect.succeed([])
      : run("findRequests", () => statement, (rows) => rows.map(decodeDeployment))
  }

  const recordOperation = (
    deploymentId: string,
    entry: NewHistoryRow,
    requestId?: string
  ): Effect.Effect<boolean, PersistenceError> => {
    const refused = unstorableValue("recordOperation", { entry, requestId })
    if (refused !== undefined) return Effect.fail(refused)
    if (!isUuid(deploymentId)) return Effect.succeed(false)
    // With a request: only while it is pending, and clearing it. Without: the deployment, kept from being deleted
    // until the entry is written.
    const target = requestId === undefined
      ? sql`SELECT d.id FROM ${deployments} d WHERE d.id = ${deploymentId}::uuid AND ${lockBound} FOR KEY SHARE`
      : sql`UPDATE ${deployments} SET request = NULL
  WHERE id = ${deploymentId}::uuid AND request->>'id' = ${requestId}::text AND ${lockBound}
  RETURNING id`
    return run(
      "recordOperation",
      () =>
        sql`WITH target AS (
  ${target}
), recorded AS (
  ${writes.historyInsert("target", entry)}
  RETURNING 1
)
SELECT count(*) AS count FROM recorded`,
      (rows) => decodeCount(rows) > 0
    )
  }

  const readHistory = (deploymentId: string): Effect.Effect<ReadonlyArray<HistoryRow>, PersistenceError> =>
    isUuid(deploymentId)
      ? run(
        "history",
        () =>
          sql`SELECT h.sequence, h.operation, h.outcome, h."by", ${sql.literal(millis("h.at"))} AS at, h.reason,
  h.job, h.message, h.detail::text AS detail
FROM ${history} h WHERE h.deployment_id = ${deploymentId}::uuid ORDER BY h.sequence`,
          (rows) => rows.map(decodeHistory)
      )
      : Effect.succeed([])

  return { findRequests, history: readHistory, recordOperation, requestOperation }
}
