/**
 * The PostgreSQL side of `bench/recovery.ts`: databases made for the run (the crashed state once, then one copy of
 * it per recovery run, `CREATE DATABASE ... TEMPLATE`), and the queries that check and describe their rows.
 *
 * Databases are created and dropped (`WITH (FORCE)`, whatever the exit) through a connection to the `postgres`
 * database; every other query runs on a one-connection client of the database it reads.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Schedule, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { tablePrefix } from "./recoveryAction.ts"
import { backendPids, urlOf } from "./pgServer.ts"

/** A database for the scope, empty or a copy of `template`, named `ea_recovery_<random>`; dropped when it closes. */
export const scopedDatabase = (
  template?: string
): Effect.Effect<string, never, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const name = `ea_recovery_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
    const create = template === undefined ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`
    return yield* Effect.acquireRelease(
      Effect.as(Effect.orDie(sql.unsafe(create)), name),
      () => Effect.orDie(sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    )
  })

/** A one-connection client of `database`. */
export const clientOf = (database: string): Layer.Layer<SqlClient.SqlClient> =>
  PgClient.layer({ url: Redacted.make(urlOf(database)), maxConnections: 1, connectTimeout: "5 seconds" }).pipe(
    Layer.orDie
  )

/** Waits until no client backend is connected to `database` (a killed process's backends notice and exit). */
export const untilDisconnected = (database: string): Effect.Effect<void, never, SqlClient.SqlClient> =>
  Effect.flatMap(backendPids(database), (pids) =>
    pids.length === 0 ? Effect.void : Effect.fail("backends still connected" as const)).pipe(
      Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 600 }),
      Effect.orDie
    )

/** A table of the store, as an identifier. */
export const table = (sql: SqlClient.SqlClient, name: "deployments") => sql(`${tablePrefix}${name}`)

/**
 * The job records of every deployment as rows `r` with the columns job runs had before migration 0004 moved them
 * into the deployment row (`deployment_id`, `index`, `status`, `input`, `output`, `attempts`, `started_at`,
 * `finished_at`; a time is its JSON number, a cleared or absent one `NULL`).
 */
export const jobRows = (sql: SqlClient.SqlClient) =>
  sql`(SELECT d.id AS deployment_id, (j.value->>'index')::int AS "index", j.value->>'status' AS status,
    j.value->'input' AS input, j.value->'output' AS output, (j.value->>'attempts')::int AS attempts,
    NULLIF(j.value->'startedAt', 'null'::jsonb) AS started_at, NULLIF(j.value->'finishedAt', 'null'::jsonb) AS finished_at
  FROM ${table(sql, "deployments")} d, jsonb_array_elements(d.jobs) AS j(value))`

/** Runs a query that must work; a failure is a defect of the bench. */
export const query = <A extends object>(effect: Effect.Effect<ReadonlyArray<A>, unknown>) =>
  Effect.orDie(effect) as Effect.Effect<ReadonlyArray<A>>

// ---------------------------------------------------------------------------------------------------------------
// the crashed state

/** What the crashed process left, and whether every row is what a crash at job `current_job` leaves. */
export interface CrashState {
  readonly deployments: number
  /** Deployments `running`, leased by the dead owner at epoch 1. */
  readonly heldByDead: number
  /** Deployments whose current job is not the one planned (`crashAt` of their input). */
  readonly offPlan: number
  /** Job records not in the state a crash at the deployment's current job leaves. */
  readonly inconsistentJobs: number
  readonly jobRows: number
  /** Deployments per current job (index 0 to 4). */
  readonly byJob: ReadonlyArray<number>
  /** Latest lease expiry, epoch milliseconds. */
  readonly latestExpiry: number
}

export const crashState = (owner: string): Effect.Effect<CrashState, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const deployments = table(sql, "deployments")
    const jobRuns = jobRows(sql)
    const [summary] = yield* query(sql<{
      deployments: number
      held_by_dead: number
      off_plan: number
      inconsistent_jobs: number
      job_rows: number
      latest_expiry: number
    }>`SELECT
  (SELECT count(*)::int FROM ${deployments}) AS deployments,
  (SELECT count(*)::int FROM ${deployments} WHERE status = 'running' AND owner = ${owner}::text AND lease_epoch = 1
    AND lease_expires_at IS NOT NULL) AS held_by_dead,
  (SELECT count(*)::int FROM ${deployments} d JOIN ${jobRuns} AS r ON r.deployment_id = d.id AND r."index" = 0
    WHERE (r.input->>'crashAt')::int <> d.current_job) AS off_plan,
  (SELECT count(*)::int FROM ${deployments} d JOIN ${jobRuns} AS r ON r.deployment_id = d.id
    WHERE NOT (
      (r."index" < d.current_job AND r.status = 'succeeded' AND r.input IS NOT NULL AND r.output IS NOT NULL
        AND r.attempts = 1 AND r.finished_at IS NOT NULL)
      OR (r."index" = d.current_job AND r.status = 'running' AND r.input IS NOT NULL AND r.output IS NULL
        AND r.attempts = 1 AND r.started_at IS NOT NULL AND r.finished_at IS NULL)
      OR (r."index" > d.current_job AND r.status = 'pending' AND r.input IS NULL AND r.output IS NULL
        AND r.attempts = 0))) AS inconsistent_jobs,
  (SELECT count(*)::int FROM ${jobRuns} AS r) AS job_rows,
  (SELECT (extract(epoch FROM max(lease_expires_at)) * 1000)::float8 FROM ${deployments}) AS latest_expiry`)
    const histogram = yield* query(sql<{ job: number; count: number }>`SELECT current_job AS job, count(*)::int AS count
FROM ${deployments} GROUP BY current_job ORDER BY current_job`)
    const byJob = [0, 1, 2, 3, 4].map((job) => histogram.find((row) => row.job === job)?.count ?? 0)
    return {
      deployments: summary!.deployments,
      heldByDead: summary!.held_by_dead,
      offPlan: summary!.off_plan,
      inconsistentJobs: summary!.inconsistent_jobs,
      jobRows: summary!.job_rows,
      byJob,
      latestExpiry: summary!.latest_expiry
    }
  })

/** `VACUUM ANALYZE` of the store's tables, so that every copy starts with the same statistics and visibility map. */
export const vacuum: Effect.Effect<void, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* Effect.orDie(sql.unsafe(`VACUUM ANALYZE ${tablePrefix}deployments`))
})

// ---------------------------------------------------------------------------------------------------------------
// recovery progress and the recovered state

/** Deployments not `succeeded` yet. */
export const unfinished: Effect.Effect<number, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* query(
    sql<{ left: number }>`SELECT count(*)::int AS left FROM ${table(sql, "deployments")} WHERE status <> 'succeeded'`
  )
  return row!.left
})

/** What a recovery run left: how many succeeded, how often each was claimed, and how often its jobs ran. */
export interface RecoveredState {
  readonly succeeded: number
  /** Deployments at lease epoch 2: claimed exactly once since the crash. */
  readonly epochTwo: number
  readonly maxEpoch: number
  /** Deployments whose job records add up to 6 attempts: 5 jobs, the crashed one twice. */
  readonly sixAttempts: number
  readonly maxAttempts: number
}

export const recoveredState: Effect.Effect<RecoveredState, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* query(sql<{
    succeeded: number
    epoch_two: number
    max_epoch: number
    six_attempts: number
    max_attempts: number
  }>`SELECT count(*) FILTER (WHERE d.status = 'succeeded')::int AS succeeded,
  count(*) FILTER (WHERE d.lease_epoch = 2)::int AS epoch_two,
  max(d.lease_epoch)::int AS max_epoch,
  count(*) FILTER (WHERE a.total = 6)::int AS six_attempts,
  max(a.top)::int AS max_attempts
FROM ${table(sql, "deployments")} d
JOIN (SELECT deployment_id, sum(attempts) AS total, max(attempts) AS top FROM ${jobRows(sql)} AS r
  GROUP BY deployment_id) a ON a.deployment_id = d.id`)
  return {
    succeeded: row!.succeeded,
    epochTwo: row!.epoch_two,
    maxEpoch: row!.max_epoch,
    sixAttempts: row!.six_attempts,
    maxAttempts: row!.max_attempts
  }
})

/** The server process of this client's connection, to leave its CPU out of the recovery's. */
export const ownBackendPid: Effect.Effect<number, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* query(sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`)
  return row!.pid
})

/** Makes every lease expire now, as if the crashed process had stopped renewing them a lease ago. */
export const expireLeases: Effect.Effect<void, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* query(sql`UPDATE ${table(sql, "deployments")} SET lease_expires_at = now() WHERE lease_expires_at IS NOT NULL`)
})
