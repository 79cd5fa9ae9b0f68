/**
 * A recovery process of `bench/recovery.ts`: the runtime with its background recovery loop on, the 5-job action
 * registered with no-op jobs, resuming the deployments a crashed process left.
 *
 * Run as `node bench/support/recoveryWorker.ts '<WorkerConfig as JSON>'`. It connects, prints `ready`, and waits
 * for a `GO` line on stdin before building `Actions.layer` (so that every process of a run starts its recovery
 * loop at the same moment, and process start-up is not timed). Then it prints every claim, timed, as the recovery
 * loop makes it. On a `STOP` line it prints `done` (jobs executed, deployments finished here, the most it had
 * claimed and not finished at once) and exits; it also exits when its stdin closes (the parent is gone).
 */
import { PgClient } from "@effect/sql-pg"
import { Cause, Context, Duration, Effect, Exit, Layer, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import { createInterface } from "node:readline"
import { Actions } from "../../src/index.ts"
import { jobCount, recoveryAction, type StoreEvent, tell, type WorkerConfig } from "./recoveryAction.ts"
import { timedStoreLayer } from "./recoveryStore.ts"

const config: WorkerConfig = JSON.parse(process.argv[2] ?? "")

process.stdin.on("close", () => process.exit(0))
const lines = createInterface({ input: process.stdin })

/** Resolves when stdin brings `line`. */
const lineOnce = (line: string): Promise<void> =>
  new Promise((resolve) => {
    lines.on("line", (received) => {
      if (received.trim() === line) resolve()
    })
  })
const go = lineOnce("GO")
const stop = lineOnce("STOP")

const counts = { jobs: 0, finished: 0, claimed: 0, maxInFlight: 0 }

const action = recoveryAction((job) =>
  Effect.sync(() => {
    counts.jobs++
    if (job === jobCount - 1) counts.finished++
  })
)

const report = (event: StoreEvent): void => {
  if (event.type === "claim") {
    counts.claimed += event.claimed
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.claimed - counts.finished)
  }
  tell(event)
}

const runtime = Actions.layer({
  owner: config.owner,
  recovery: {
    enabled: true,
    ...(config.leaseTtlMillis === undefined ? {} : { leaseTtl: Duration.millis(config.leaseTtlMillis) }),
    ...(config.pollMillis === undefined ? {} : { pollInterval: Duration.millis(config.pollMillis) }),
    ...(config.batch === undefined ? {} : { batch: config.batch })
  }
}).pipe(Layer.provide(timedStoreLayer(report)))

const program = Effect.scoped(Effect.gen(function*() {
  const client = yield* Layer.build(
    PgClient.layer({
      url: Redacted.make(config.url),
      connectTimeout: "5 seconds",
      ...(config.maxConnections === undefined ? {} : { maxConnections: config.maxConnections })
    })
  )
  yield* Effect.provide(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`), client)
  tell({ type: "ready", pid: process.pid })
  yield* Effect.promise(() => go)
  const services = yield* Effect.provide(Layer.build(runtime), client)
  yield* Context.get(services, Actions.Actions).register(action)
  yield* Effect.promise(() => stop)
  tell({ type: "done", jobs: counts.jobs, finished: counts.finished, maxInFlight: counts.maxInFlight })
}))

const fiber = Effect.runFork(program.pipe(Effect.provideService(References.MinimumLogLevel, "Warn")))
fiber.addObserver((exit) => {
  if (Exit.isFailure(exit)) process.stderr.write(`recovery worker failed: ${Cause.pretty(exit.cause)}\n`)
  process.exit(Exit.isFailure(exit) ? 1 : 0)
})
