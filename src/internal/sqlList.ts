/**
 * The `list` statement of the SQL deployment store: one statement for every filter, each read from an index in
 * list order (newest first), so that no filter scans deployments it does not return.
 *
 * | filter | index |
 * |---|---|
 * | none | `deployments_list_idx (created_at DESC, id DESC)` |
 * | application | `deployments_app_only_idx (application, created_at DESC, id DESC)` |
 * | application and action | `deployments_app_idx (application, action, created_at DESC, id DESC)` |
 * | action | `deployments_action_idx (action, created_at DESC, id DESC)` |
 * | key | `deployments_key_idx (key, created_at DESC, id DESC)` (0003) |
 * | statuses | `deployments_status_idx (status, created_at DESC, id DESC)`, one range per status |
 * | statuses and other filters | per status, the planner's pick of the status index or the other filters' index |
 *
 * A created range (`createdAfter`, `createdBefore`) needs no index of its own: every index above is ordered by
 * `created_at` right after the columns it filters on by equality, so a range is one range of the same index.
 *
 * With statuses, each status is its own subquery with its own `LIMIT` (`UNION ALL`), and the ranges are merged:
 * a status without rows costs one index probe, where `status IN (...)` under `ORDER BY created_at` read the whole
 * list index (46 ms at 100,000 deployments, for the `rollback_failed` query operators run most).
 *
 * @internal
 */
import { Option, Schema } from "effect"
import type { SqlClient, Statement } from "effect/sql"
import type { PersistenceError } from "../ActionError.ts"
import { DeploymentStatus } from "../Deployment.ts"
import { invalidCursor, type ListQuery } from "../DeploymentStore.ts"
import type { Columns } from "./sqlColumns.ts"
import { decodeListCursor } from "./sqlListCursor.ts"
import { allStorable } from "./sqlParams.ts"
import type { Tables } from "./sqlTables.ts"

const isDeploymentStatus = Schema.is(DeploymentStatus)

/** The earliest time PostgreSQL's `timestamptz` holds (4714-11-24 BC), in epoch milliseconds. */
const earliestTime = -210_866_803_200_000

/**
 * A created-range bound as SQL: whole epoch milliseconds (a bound between two is rounded up, which, for the whole
 * milliseconds stored times are, selects the same rows), or an infinite time beyond what `timestamptz` holds;
 * `undefined` for `NaN`, which bounds nothing.
 */
const timeBound = (sql: SqlClient.SqlClient, columns: Columns, time: number) => {
  if (Number.isNaN(time)) return undefined
  const whole = Math.ceil(time)
  if (whole > Number.MAX_SAFE_INTEGER) return sql.literal("'infinity'::timestamptz")
  if (whole < earliestTime) return sql.literal("'-infinity'::timestamptz")
  return columns.at(whole)
}

/** What a `list` call needs: a statement to run, or no statement (an empty page), or a refusal. */
export type ListPlan =
  | { readonly _tag: "Statement"; readonly statement: Statement.Statement<Record<string, unknown>>; readonly limit: number }
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Invalid"; readonly error: PersistenceError }

/** Builds `list` statements for one client and one set of tables. */
export const makeListPlanner = (sql: SqlClient.SqlClient, tables: Tables, columns: Columns) => {
  const deployments = sql(tables.deployments)
  const pageColumns = sql`${columns.deploymentColumns}, CASE WHEN isfinite(d.created_at) THEN
  (extract(epoch FROM d.created_at) * 1000000 - floor(extract(epoch FROM d.created_at) * 1000) * 1000)::integer
END AS created_at_micros`

  return (query: ListQuery): ListPlan => {
    const after = query.cursor === undefined ? undefined : decodeListCursor(query.cursor)
    if (query.cursor !== undefined && (after === undefined || Option.isNone(after))) {
      return { _tag: "Invalid", error: invalidCursor(query.cursor) }
    }
    const limit = Math.min(Math.floor(query.limit), Number.MAX_SAFE_INTEGER - 1)
    if (!(limit >= 1)) return { _tag: "Empty" }
    // a name no store can hold names no stored deployment
    if (!allStorable(query.application, query.action, query.key)) return { _tag: "Empty" }
    const position = after === undefined || Option.isNone(after) ? undefined : after.value
    const cursorTime = position === undefined
      ? undefined
      : Number.isFinite(position.createdAt)
      ? sql`(${columns.at(position.createdAt)} + ${position.micros}::integer * interval '1 microsecond')`
      : sql.literal(position.createdAt > 0 ? "'infinity'::timestamptz" : "'-infinity'::timestamptz")
    const before = query.createdBefore === undefined ? undefined : timeBound(sql, columns, query.createdBefore)
    const since = query.createdAfter === undefined ? undefined : timeBound(sql, columns, query.createdAfter)
    const conditions = [
      ...(query.application === undefined ? [] : [sql`d.application = ${query.application}::text`]),
      ...(query.action === undefined ? [] : [sql`d.action = ${query.action}::text`]),
      ...(query.key === undefined ? [] : [sql`d.key = ${query.key}::text`]),
      ...(before === undefined ? [] : [sql`d.created_at < ${before}`]),
      ...(since === undefined ? [] : [sql`d.created_at >= ${since}`]),
      ...(position === undefined || cursorTime === undefined
        ? []
        : [sql`(d.created_at, d.id) < (${cursorTime}, ${position.id}::uuid)`])
    ]
    const rows = limit + 1
    if (query.statuses === undefined) {
      return {
        _tag: "Statement",
        statement: sql`SELECT ${pageColumns} FROM ${deployments} d WHERE ${sql.and(conditions)}
ORDER BY d.created_at DESC, d.id DESC LIMIT ${rows}::bigint`,
        limit
      }
    }
    // Statuses are a closed set, written as literals, so that the planner knows how many rows each has (a rare
    // status is read from the status index, a common one maybe from another filter's); one that is not a status
    // names no deployment.
    const statuses = [...new Set(query.statuses)].filter(isDeploymentStatus)
    if (statuses.length === 0) return { _tag: "Empty" }
    const ranges = statuses.map((status) =>
      sql`(SELECT d.* FROM ${deployments} d WHERE d.status = ${sql.literal(`'${status}'`)} AND ${sql.and(conditions)}
  ORDER BY d.created_at DESC, d.id DESC LIMIT ${rows}::bigint)`
    )
    return {
      _tag: "Statement",
      statement: sql`SELECT ${pageColumns} FROM (${sql.join(" UNION ALL ", false)(ranges)}) AS d
ORDER BY d.created_at DESC, d.id DESC LIMIT ${rows}::bigint`,
      limit
    }
  }
}
