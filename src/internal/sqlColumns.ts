/**
 * The SQL fragments the deployment store's statements share: timestamps from and to epoch milliseconds, the
 * columns a deployment row and a snapshot are selected with (decoded by `sqlRows.ts`), and the runnable
 * definitions as a row source.
 *
 * @internal
 */
import type { SqlClient, Statement } from "effect/sql"
import type { Runnable } from "../DeploymentStore.ts"
import type { Run } from "./sqlRun.ts"
import type { Tables } from "./sqlTables.ts"

/** A `timestamptz` column as whole epoch milliseconds (floored: a time written by hand may have microseconds). */
export const millis = (column: string): string => `floor(extract(epoch FROM ${column}) * 1000)::float8`

/** The shared fragments, for one client and one set of tables. */
export const makeColumns = (sql: SqlClient.SqlClient) => {
  /**
   * Epoch milliseconds (a parameter) as a `timestamptz`; `undefined` is SQL `NULL`. Exact over PostgreSQL's whole
   * range: whole days and the milliseconds left are added apart (a product of one interval and a large number is
   * computed in floating point, which is off by microseconds far from 1970), to a `timestamp` in UTC (a day is 24
   * hours there whatever the session's time zone).
   */
  const at = (epochMillis: number | undefined) => {
    const value = epochMillis ?? null
    return sql`((timestamp 'epoch' + (${value}::bigint / 86400000) * interval '1 day'
  + (${value}::bigint % 86400000) * interval '1 millisecond') AT TIME ZONE 'UTC')`
  }
  /** Epoch milliseconds read from a JSON object (an SQL expression) as a `timestamptz`, exactly as `at`. */
  const atJson = (expression: string) =>
    sql.literal(`((timestamp 'epoch' + ((${expression})::bigint / 86400000) * interval '1 day'
  + ((${expression})::bigint % 86400000) * interval '1 millisecond') AT TIME ZONE 'UTC')`)

  const deploymentColumnList = "d.id::text AS id, d.application, d.action, d.key, d.fingerprint, d.status, " +
    "d.current_job, d.state::text AS state, d.output::text AS output, d.failure::text AS failure, d.owner, " +
    `${millis("d.lease_expires_at")} AS lease_expires_at, d.lease_epoch, d.stop_requested, ` +
    `d.resumes, d.parked::text AS parked, d.restart_of, d.request::text AS request, ` +
    `${millis("d.created_at")} AS created_at, ${millis("d.updated_at")} AS updated_at`
  const deploymentColumns = sql.literal(deploymentColumnList)
  /** The deployment columns and its job records (`jobs`: the JSON array of encoded job records, as stored). */
  const snapshotColumns = sql.literal(`${deploymentColumnList}, d.jobs::text AS jobs`)

  /** The runnable definitions as a row source `r(application, action, fingerprint)`, from one jsonb parameter. */
  const runnableRows = (runnable: ReadonlyArray<Runnable>) =>
    sql`jsonb_to_recordset(${
      JSON.stringify(runnable.map(({ action, application, fingerprint }) => ({ application, action, fingerprint })))
    }::jsonb) AS r(application text, action text, fingerprint text)`

  /**
   * A condition on `d` that the index of `(application, action)` can serve: its application among the runnable
   * ones and its action among theirs (a superset of the runnable pairs, which the `runnableRows` condition beside it
   * makes exact). As arrays the planner counts, so that it reads those index entries only: the join with
   * `runnableRows` alone (a function's rows, which it guesses at 100) was planned as a read of every runnable
   * deployment of every definition.
   */
  const runnableKeys = (runnable: ReadonlyArray<Runnable>) =>
    sql`d.application = ANY(${textArray(runnable.map((r) => r.application))}::text[])
    AND d.action = ANY(${textArray(runnable.map((r) => r.action))}::text[])`

  return { at, atJson, deploymentColumns, runnableKeys, runnableRows, snapshotColumns }
}

/**
 * Distinct texts as a PostgreSQL array literal, for a parameter cast with `::text[]`: each element in double quotes,
 * its backslashes and double quotes escaped with a backslash (`a"b` is `{"a\\"b"}`).
 */
export const textArray = (values: ReadonlyArray<string>): string => {
  const quoted = Array.from(new Set(values), (value) => `"${value.replaceAll("\\", "\\\\").replaceAll("\"", "\\\"")}"`)
  return `{${quoted.join(",")}}`
}

/** The fragments of `makeColumns`. */
export type Columns = ReturnType<typeof makeColumns>

/** What the store's statements share: the client, the tables, the statement runner and the common fragments. */
export interface StatementDeps {
  readonly sql: SqlClient.SqlClient
  readonly tables: Tables
  readonly run: Run
  readonly columns: Columns
  /** A condition that is always true and bounds the statement's wait for row locks (`lock_timeout`). */
  readonly lockBound: Statement.Fragment
  /** The database server's time of the current statement: the clock of every lease. */
  readonly serverNow: Statement.Fragment
  /** The lease expiry `ttl` milliseconds after `serverNow`. */
  readonly leaseUntil: (ttl: number) => Statement.Fragment
}
