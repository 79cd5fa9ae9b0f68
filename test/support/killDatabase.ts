/**
 * The kill test's side of the database: the tables of a run (the store's, migrated once before any worker starts,
 * and the side-effect table), the progress of the run, what the checks read, cutting the workers' connections,
 * and dropping the tables.
 */
import { Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import * as SqlDeploymentStore from "../../src/SqlDeploymentStore.ts"
import type { DeploymentRow, EffectRow, ErrorRow, JobRunRow } from "./killChecks.ts"
import { sideEffectsTable } from "./killPlan.ts"
import { dropTables } from "./postgres.ts"

const sqlClient = Effect.map(SqlClient.SqlClient, (sql) => sql.withoutTransforms())

/** Tries again for a while (the server may be restarting), then dies. */
const retrying = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, never, R> =>
  effect.pipe(Effect.retry({ schedule: Schedule.spaced("250 millis"), times: 120 }), Effect.orDie)

/** Migrates the store's tables and creates the side-effect table. */
export const createTables = (prefix: string): Effect.Effect<void, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    yield* Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations({ prefix })))
    const sql = yield* sqlClient
    yield* sql`CREATE TABLE ${sql(sideEffectsTable(prefix))} (
  seq bigserial PRIMARY KEY,
  deployment_id uuid NOT NULL,
  job integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('do', 'undo')),
  epoch bigint NOT NULL,
  owner text NOT NULL,
  attempt integer NOT NULL,
  applied boolean NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
)`
  }).pipe(Effect.orDie)

export const dropAll = (prefix: string): Effect.Effect<void, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* sqlClient
    yield* sql`DROP TABLE IF EXISTS ${sql(sideEffectsTable(prefix))}`.pipe(Effect.orDie)
    yield* dropTables(prefix)
  })

export interface Progress {
  readonly total: number
  readonly active: number
}

/** How many deployments exist, and how many of them are still running or rolling back. */
export const progress = (prefix: string): Effect.Effect<Progress, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* sqlClient
    const rows = yield* sql<{ total: number; active: number }>`SELECT count(*)::int AS total,
  (count(*) FILTER (WHERE status IN ('running', 'rolling_back')))::int AS active
FROM ${sql(`${prefix}deployments`)}`
    return { total: rows[0]?.total ?? 0, active: rows[0]?.active ?? 0 }
  }).pipe(retrying)

/**
 * For the message of a run that did not settle: the deployments not settled yet, and what the workers' connections
 * are doing (a statement waiting for a lock shows here).
 */
export const unsettled = (
  prefix: string,
  applicationName: string
): Effect.Effect<{ readonly deployments: unknown; readonly connections: unknown }, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* sqlClient
    const deployments = yield* sql`SELECT d.id::text, d.key, d.status, d.current_job, d.owner, d.lease_epoch::int AS epoch,
  d.lease_expires_at::text AS lease_expires_at, now()::text AS now, (
    SELECT e.tag || ': ' || e.message FROM ${sql(`${prefix}errors`)} e
    WHERE e.deployment_id = d.id ORDER BY e.sequence DESC LIMIT 1
  ) AS last_error
FROM ${sql(`${prefix}deployments`)} d WHERE d.status IN ('running', 'rolling_back') ORDER BY d.key LIMIT 20`
    const connections = yield* sql`SELECT pid, application_name, state, wait_event_type, wait_event,
  (now() - query_start)::text AS running_for, left(query, 200) AS query
FROM pg_stat_activity
WHERE left(application_name, ${applicationName.length}::int) = ${applicationName}::text AND state <> 'idle'`
    return { deployments, connections }
  }).pipe(Effect.orDie)

export interface Contents {
  readonly deployments: ReadonlyArray<DeploymentRow>
  readonly jobRuns: ReadonlyArray<JobRunRow>
  readonly effects: ReadonlyArray<EffectRow>
  readonly errors: ReadonlyArray<ErrorRow>
  /** Job executions recorded as started more than once (`attempts > 1`): resumed after a kill. */
  readonly attemptsAboveOne: number
}

/** Everything the checks need, read once the run settled. */
export const readContents = (prefix: string): Effect.Effect<Contents, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* sqlClient
    const deployments = yield* sql<DeploymentRow>`SELECT id::text AS "id", key AS "key", status AS "status",
  lease_epoch::int AS "leaseEpoch", owner AS "owner"
FROM ${sql(`${prefix}deployments`)}`
    // the job records, stored in the deployment row (migration 0004), one row each
    const jobRuns = yield* sql<JobRunRow>`SELECT d.id::text AS "deploymentId", (j.value->>'index')::int AS "index",
  j.value->>'status' AS "status", (j.value->>'attempts')::int AS "attempts"
FROM ${sql(`${prefix}deployments`)} d, jsonb_array_elements(d.jobs) AS j(value)`
    const effects = yield* sql<EffectRow>`SELECT deployment_id::text AS "deploymentId", job AS "job", kind AS "kind",
  epoch::int AS "epoch", owner AS "owner", attempt AS "attempt", applied AS "applied"
FROM ${sql(sideEffectsTable(prefix))} ORDER BY seq`
    const errors = yield* sql<ErrorRow>`SELECT deployment_id::text AS "deploymentId", tag AS "tag", phase AS "phase",
  message AS "message"
FROM ${sql(`${prefix}errors`)} ORDER BY sequence`
    return {
      deployments,
      jobRuns,
      effects,
      errors,
      attemptsAboveOne: jobRuns.filter((run) => run.attempts > 1).length
    }
  }).pipe(retrying)

/**
 * Terminates every connection of the workers (their `application_name` starts with `applicationName`): to the
 * workers, the same as a server restart (every connection dies at once, they must reconnect), without disturbing
 * the other test files that share the server. Returns how many connections it terminated.
 */
export const cutConnections = (applicationName: string): Effect.Effect<number, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* sqlClient
    const rows = yield* sql<{ terminated: number }>`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int
  AS terminated
FROM pg_stat_activity
WHERE left(application_name, ${applicationName.length}::int) = ${applicationName}::text AND pid <> pg_backend_pid()`
    return rows[0]?.terminated ?? 0
  }).pipe(retrying)
