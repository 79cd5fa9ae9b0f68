/**
 * Where the write-ahead log of a deployment goes: runs `BENCH_WAL_DEPLOYMENTS` deployments (1,000 by default) of
 * the `floor` and of `actions` (the systems of `bench/postgres.ts`), one after another at concurrency 1 in a database
 * of their own, then prints `pg_waldump --stats=record` of each system's stretch of the log, per deployment. Run it as
 * a user who may read the server's `pg_wal` directory (`BENCH_WAL_DIR`, default the Debian PostgreSQL 15 one), with
 * `node --conditions=effect-actions-source bench/walStats.ts`. Other work on the server writes into the same log:
 * run it on a quiet server.
 */
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { execFileSync } from "node:child_process"
import { poolLayer } from "./support/pgPool.ts"
import { adminLayer, benchDatabase, urlOf, walPosition } from "./support/pgServer.ts"
import { systems, Transitions } from "./support/pgSystems.ts"

const count = Number(process.env.BENCH_WAL_DEPLOYMENTS ?? 1_000)
const walDir = process.env.BENCH_WAL_DIR ?? "/var/lib/postgresql/15/main/pg_wal"
const waldump = process.env.BENCH_WAL_WALDUMP ?? "/usr/lib/postgresql/15/bin/pg_waldump"

/** `pg_waldump --stats=record` between two positions, each line's bytes divided by `per`. */
const dumpStats = (start: string, end: string, per: number): string => {
  const text = execFileSync(waldump, ["--stats=record", "-p", walDir, "-s", start, "-e", end], { encoding: "utf8" })
  const stat = /^(\S+)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)/
  return text.split("\n").flatMap((line) => {
    const match = stat.exec(line.trim())
    if (match === null || match[1] === "Total" || Number(match[2]) === 0) return []
    const [, type, n, record, fpi, combined] = match
    return [
      `${type!.padEnd(24)} ${(Number(n) / per).toFixed(2).padStart(6)} records ${
        (Number(record) / per).toFixed(0).padStart(6)
      } B  FPI ${(Number(fpi) / per).toFixed(0).padStart(6)} B  total ${(Number(combined) / per).toFixed(0).padStart(6)} B`
    ]
  }).join("\n")
}

const program = Effect.gen(function*() {
  const database = yield* benchDatabase
  const pool = poolLayer({ url: urlOf(database), maxConnections: 4 })
  for (const name of ["floor", "actions"] as const) {
    const system = systems.find((candidate) => candidate.name === name)!
    yield* system.migrate(pool)
    yield* Effect.scoped(Effect.gen(function*() {
      const deploy = yield* system.open(pool, new Transitions())
      // warm up (prepared statements, caches), then measure
      yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => `${name}-warm-${i}`), deploy, { discard: true })
      yield* Effect.provide(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CHECKPOINT`), adminLayer)
      const start = yield* Effect.provide(walPosition, adminLayer)
      yield* Effect.forEach(Array.from({ length: count }, (_, i) => `${name}-${i}`), deploy, { discard: true })
      const end = yield* Effect.provide(walPosition, adminLayer)
      console.log(`\n${system.label}: WAL per deployment, ${count} deployments at concurrency 1 after a CHECKPOINT`)
      console.log(dumpStats(start, end, count))
    }))
  }
})

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(Layer.mergeAll(adminLayer)))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
