/**
 * The PostgreSQL side of `bench/postgres.ts`: the server it talks to, a fresh database per run (created through
 * the `postgres` database, dropped at the end even on failure), and what the server says about that database:
 * committed transactions (`pg_stat_database.xact_commit`), its client backends and their CPU time.
 *
 * Every query here runs on an admin connection to the `postgres` database, so the bench's own bookkeeping never
 * counts in the bench database's `xact_commit`.
 */
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Redacted, Schedule, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"

/** The connection base: `DATABASE_URL`, else the local server as `postgres`. */
export const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** The same server, another database. */
export const urlOf = (database: string): string => {
  const url = new URL(baseUrl)
  url.pathname = `/${database}`
  return url.toString()
}

/** One connection to the `postgres` database, for DDL on databases and for reading statistics. */
export const adminLayer: Layer.Layer<SqlClient.SqlClient> = PgClient.layer({
  url: Redacted.make(urlOf("postgres")),
  maxConnections: 1,
  connectTimeout: "5 seconds"
}).pipe(Layer.orDie)

/**
 * A database named `ea_bench_<random>` for the scope: created when acquired, dropped (with its remaining
 * connections) when the scope closes, whatever the exit.
 */
export const benchDatabase: Effect.Effect<string, never, SqlClient.SqlClient | Scope.Scope> =
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const name = `ea_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
    return yield* Effect.acquireRelease(
      Effect.as(Effect.orDie(sql.unsafe(`CREATE DATABASE ${name}`)), name),
      () => Effect.orDie(sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    )
  })

/** What the server is: version and durability settings. */
export interface ServerInfo {
  readonly version: string
  readonly fsync: string
  readonly synchronousCommit: string
  readonly sharedBuffers: string
  readonly maxConnections: string
}

const setting = (name: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      Effect.orDie(sql<{ setting: string }>`SELECT current_setting(${name}) AS setting`),
      (rows) => rows[0]?.setting ?? "unknown"
    ))

/** Reads the server's version and the settings that matter for commit cost. */
export const serverInfo: Effect.Effect<ServerInfo, never, SqlClient.SqlClient> = Effect.all({
  version: setting("server_version"),
  fsync: setting("fsync"),
  synchronousCommit: setting("synchronous_commit"),
  sharedBuffers: setting("shared_buffers"),
  maxConnections: setting("max_connections")
})

/** The pids of the client backends connected to `database`. */
export const backendPids = (database: string): Effect.Effect<ReadonlyArray<number>, never, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      Effect.orDie(sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
WHERE datname = ${database} AND backend_type = 'client backend'`),
      (rows) => rows.map((row) => Number(row.pid))
    ))

/** The server's current write-ahead log position. */
export const walPosition: Effect.Effect<string, never, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => Effect.map(Effect.orDie(sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`), (rows) => rows[0]!.lsn)
)

/**
 * The bytes of write-ahead log the server wrote since `position` (`walPosition`): the whole server's, so what the
 * background processes write (checkpoints' full-page images, autovacuum) is in it too.
 */
export const walBytesSince = (position: string): Effect.Effect<number, never, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      Effect.orDie(sql<{ bytes: number }>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${position}::pg_lsn)::float8 AS bytes`),
      (rows) => Number(rows[0]!.bytes)
    ))

/** Counters of a database in `pg_stat_database`. */
export interface DatabaseCounters {
  /** Committed transactions (`xact_commit`). */
  readonly commits: number
  /** Sessions established (`sessions`): each costs one commit of its own, the catalog reads of its startup. */
  readonly sessions: number
}

/**
 * Waits until no client backend is connected to `database` (a closed pool's backends exit, and flush their
 * statistics as they do), then until its counters stop changing; returns them.
 *
 * Why: a backend flushes its transaction counts to the shared statistics at most once a second while it works,
 * and an idle one only after up to ten seconds; one that exits flushes at once. Reading after the pool closed is
 * the way to count every commit of a batch without waiting ten seconds.
 */
export const settledCounters = (database: string): Effect.Effect<DatabaseCounters, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const gone = Effect.flatMap(backendPids(database), (pids) =>
      pids.length === 0 ? Effect.void : Effect.fail("backends still connected" as const))
    yield* gone.pipe(
      Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 1000 }),
      Effect.orDie
    )
    const read = Effect.map(
      Effect.orDie(sql<{ commits: string; sessions: string }>`SELECT xact_commit::text AS commits,
  sessions::text AS sessions FROM pg_stat_database WHERE datname = ${database}`),
      (rows): DatabaseCounters => ({
        commits: Number(rows[0]?.commits ?? Number.NaN),
        sessions: Number(rows[0]?.sessions ?? Number.NaN)
      })
    )
    let previous = yield* read
    while (true) {
      yield* Effect.sleep(Duration.millis(50))
      const current = yield* read
      if (current.commits === previous.commits && current.sessions === previous.sessions) return current
      previous = current
    }
  })

// ---------------------------------------------------------------------------------------------------------------
// CPU time, from /proc (the server runs on this machine)

/** Clock ticks per second of `/proc/<pid>/stat`. */
const clockTicks: number = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * CPU time a process has used, in milliseconds: from `/proc/<pid>/schedstat` (nanoseconds on CPU), else from
 * `/proc/<pid>/stat` (user + system clock ticks, too coarse for short batches); 0 when it is gone.
 */
export const processCpuMillis = (pid: number): number => {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6
  } catch {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      // fields after the command name (which may contain spaces) start at the last ')'
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks
    } catch {
      return 0
    }
  }
}

/** The whole machine's CPU counters (`/proc/stat`, first line), in ticks: busy and total. */
export const machineCpu = (): { readonly busy: number; readonly total: number } => {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? ""
    const ticks = line.trim().split(/\s+/).slice(1).map(Number)
    const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0)
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}
