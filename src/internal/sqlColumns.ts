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
export const makeColumns = (sql: SqlClient.SqlClient, tables: Tables) => {
  const jobRuns = sql(tables.jobRuns)

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

  const deploymentColumns = sql.literal(
    "d.id::text AS id, d.application, d.action, d.key, d.fingerprint, d.status, d.current_job, " +
      "d.state::text AS state, d.output::text AS output, d.failure::text AS failure, d.owner, " +
      `${millis("d.lease_expires_at")} AS lease_expires_at, d.lease_epoch, d.stop_requested, ` +
      `d.resumes, d.parked::text AS parked, d.restart_of, d.request::text AS request, ` +
      `${millis("d.created_at")} AS created_at, ${millis("d.updated_at")} AS updated_at`
  )
  /**
   * The job records of deployment `d` read from `source` (a row source of job runs aliased `r`), as one JSON text:
   * `[index, name, status, [input] | null, [output] | null, attempts, started, finished, rollback started,
   * rollback finished, earlier attempts | null]` per job, by index.
   */
  const jobsFrom = (source: Statement.Fragment) =>
    sql`(
  SELECT COALESCE(json_agg(json_build_array(
    r."index", r.name, r.status,
    CASE WHEN r.input IS NULL THEN NULL ELSE json_build_array(r.input) END,
    CASE WHEN r.output IS NULL THEN NULL ELSE json_build_array(r.output) END,
    r.attempts, ${sql.literal(millis("r.started_at"))}, ${sql.literal(millis("r.finished_at"))},
    ${sql.literal(millis("r.rollback_started_at"))}, ${sql.literal(millis("r.rollback_finished_at"))},
    r.earlier_attempts
  ) ORDER BY r."index"), '[]'::json)::text
  FROM ${source}
) AS jobs`
  // one JSON text per deployment, from its stored job records
  const snapshotColumns = sql`${deploymentColumns}, ${jobsFrom(sql`${jobRuns} r WHERE r.deployment_id = d.id`)}`

  /** The runnable definitions as a row source `r(application, action, fingerprint)`, from one jsonb parameter. */
  const runnableRows = (runnable: ReadonlyArray<Runnable>) =>
    sql`jsonb_to_recordset(${
      JSON.stringify(runnable.map(({ action, application, fingerprint }) => ({ application, action, fingerprint })))
    }::jsonb) AS r(application text, action text, fingerprint text)`

  return { at, atJson, deploymentColumns, jobsFrom, runnableRows, snapshotColumns }
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
