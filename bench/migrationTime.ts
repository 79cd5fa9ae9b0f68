/**
 * How long migration 0004 takes on a populated table: `BENCH_MIGRATION_DEPLOYMENTS` deployments (10,000 by default)
 * of five jobs each, in the 0003 layout (written in SQL, `generate_series`), then migrated to the current layout;
 * prints the time and the WAL it wrote. Run: `node --conditions=effect-actions-source bench/migrationTime.ts`
 * (needs PostgreSQL: `DATABASE_URL`, default the local server's `test` database).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { loaderFor, loaderThroughFor, tablesFor } from "../src/internal/sqlTables.ts"

const count = Number(process.env.BENCH_MIGRATION_DEPLOYMENTS ?? 10_000)
const prefix = "bench_migration_"
const tables = tablesFor(prefix)
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const drop = sql.unsafe(`DROP TABLE IF EXISTS ${prefix}history, ${prefix}errors, ${prefix}job_data, ${prefix}job_runs,
    ${prefix}deployments, ${prefix}migrations`)
  yield* drop
  yield* Migrator.make({})({ loader: loaderThroughFor(tables, 3), table: tables.migrations })
  yield* sql`INSERT INTO ${sql(tables.deployments)} (id, application, action, fingerprint, status, current_job, state,
    lease_epoch, stop_requested, created_at, updated_at)
  SELECT gen_random_uuid(), 'app', 'provision', '["a","b","c","d","e"]',
    CASE WHEN i % 10 = 0 THEN 'running' ELSE 'succeeded' END, 4, '{"step":4}', 1, false, now(), now()
  FROM generate_series(1, ${count}::integer) AS i`
  yield* sql`INSERT INTO ${sql(tables.jobRuns)} (deployment_id, "index", name, status, input, output, attempts,
    started_at, finished_at)
  SELECT d.id, j, 'job-' || j, 'succeeded', jsonb_build_object('id', d.id, 'pad', repeat('x', 80)),
    jsonb_build_object('id', d.id, 'pad', repeat('y', 80)), 1, now(), now()
  FROM ${sql(tables.deployments)} d, generate_series(0, 4) AS j`
  yield* sql`VACUUM ANALYZE ${sql(tables.deployments)}`.pipe(Effect.ignore)
  const [before] = yield* sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`
  const started = performance.now()
  yield* Migrator.make({})({ loader: loaderFor(tables), table: tables.migrations })
  const elapsed = performance.now() - started
  const [wal] = yield* sql<{ bytes: number }>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${before!.lsn}::pg_lsn)::float8 AS bytes`
  console.log(`0004 on ${count} deployments of 5 jobs: ${elapsed.toFixed(0)} ms, ${(Number(wal!.bytes) / 1e6).toFixed(1)} MB of WAL`)
  yield* drop
})

Effect.runPromise(program.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url) })))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
