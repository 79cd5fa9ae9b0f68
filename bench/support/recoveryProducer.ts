/**
 * The process of `bench/recovery.ts` that crashes: it runs `count` real deployments of the 5-job action, each of
 * which blocks forever in its job `crashAt` (seeded, uniform over the five jobs), and waits to be killed with
 * SIGKILL by the parent. What it leaves in the database is therefore exactly what the runtime writes before a crash:
 * jobs before `crashAt` succeeded with their outputs, job `crashAt` running with its input, the lease held by this
 * process's owner until it expires.
 *
 * Run as `node bench/support/recoveryProducer.ts '<ProducerConfig as JSON>'` on a fresh database (it migrates the
 * tables). It prints (see `recoveryAction.ts`):
 * - `claim`/`heartbeat` events, timed, as the runtime makes those calls (its recovery loop is off, so only
 *   heartbeats: one statement per interval, with every deployment it holds);
 * - `produced` once every deployment reached its blocking job: how long that took, and the settled heap before the
 *   first start and with all of them in flight.
 *
 * It exits when its stdin closes (the parent is gone).
 */
import { PgClient } from "@effect/sql-pg"
import { Cause, Duration, Effect, Exit, Layer, Redacted, References } from "effect"
import { Actions, SqlDeploymentStore } from "../../src/index.ts"
import { settledHeap } from "./measure.ts"
import { plannedWork, type ProducerConfig, recoveryAction, tablePrefix, tell } from "./recoveryAction.ts"
import { timedStoreLayer } from "./recoveryStore.ts"

const config: ProducerConfig = JSON.parse(process.argv[2] ?? "")

process.stdin.on("close", () => process.exit(0))
process.stdin.resume()

/** Deployments that reached the job they block in. */
let arrived = 0

const action = recoveryAction((job, work) =>
  job === work.crashAt
    ? Effect.suspend(() => {
      arrived++
      return Effect.never
    })
    : Effect.void
)

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  yield* actions.register(action)
  const work = plannedWork(config.count, config.seed)
  const heapBefore = yield* settledHeap()
  const started = performance.now()
  yield* Effect.forEach(work, (input) => actions.start(action, input), {
    concurrency: config.startConcurrency,
    discard: true
  })
  while (arrived < config.count) yield* Effect.sleep("20 millis")
  const millis = performance.now() - started
  const heapInFlight = yield* settledHeap()
  tell({
    type: "produced",
    count: config.count,
    millis,
    heapBefore,
    heapInFlight,
    rssInFlight: process.memoryUsage().rss
  })
  return yield* Effect.never
})

const Live = Actions.layer({
  owner: config.owner,
  recovery: {
    enabled: false,
    leaseTtl: Duration.millis(config.leaseTtlMillis),
    heartbeat: Duration.millis(config.heartbeatMillis)
  }
}).pipe(
  Layer.provide(timedStoreLayer(tell)),
  Layer.provide(SqlDeploymentStore.layerMigrations({ prefix: tablePrefix })),
  Layer.provide(PgClient.layer({ url: Redacted.make(config.url), connectTimeout: "5 seconds" }))
)

const fiber = Effect.runFork(
  program.pipe(Effect.provide(Live), Effect.provideService(References.MinimumLogLevel, "Warn"))
)
fiber.addObserver((exit) => {
  if (Exit.isFailure(exit)) process.stderr.write(`recovery producer failed: ${Cause.pretty(exit.cause)}\n`)
  process.exit(Exit.isFailure(exit) ? 1 : 0)
})
