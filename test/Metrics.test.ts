import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Metric, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { Action, Actions, DeploymentStore, Job, Metrics } from "effect-actions"
import { blockingOnFirstAttempt, Boom, Counter, failedDeployment, makeLog, step } from "./support/jobs.ts"
import { freshStore, PgLive } from "./support/postgres.ts"
import { startProcess } from "./support/processes.ts"
import { settled } from "./support/settled.ts"

/**
 * Runs a test with a metric registry of its own: metrics are global by default, and the series of a deployment
 * are found in the registry of the fibers that run it, here the test's (the layers are built inside it).
 */
const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => Effect.provideService(effect, Metric.MetricRegistry, new Map()))

/**
 * Runs an effect with the runtime on the memory store. Once it returns, the runtime is released, which waits for
 * its runs to end: a run publishes its outcome (and `execute` returns) just before its fiber ends.
 */
const withActions = <A, E>(effect: Effect.Effect<A, E, Actions.Actions>) =>
  Effect.provide(effect, Actions.layerMemory({ recovery: { enabled: false } }))

/** A series' attribute values, joined: `application/action[/job][/error.type][/outcome]`. */
const label = (attributes: Metric.Metric.AttributeSet | undefined): string =>
  ["application", "action", "job", "error.type", "outcome"]
    .map((key) => attributes?.[key])
    .filter((value) => value !== undefined)
    .join("/")

const seriesOf = (snapshot: ReadonlyArray<Metric.Metric.Snapshot>, metric: { readonly id: string }) =>
  snapshot.filter((series) => series.id === metric.id)

/** Every series of a counter, by label: exactly the series recorded, with their counts. */
const counts = (snapshot: ReadonlyArray<Metric.Metric.Snapshot>, metric: Metric.Counter<number>) =>
  Object.fromEntries(seriesOf(snapshot, metric).flatMap((series) =>
    series.type === "Counter" ? [[label(series.attributes), Number(series.state.count)]] : []
  ))

/** Every series of a gauge, by label. */
const gauges = (snapshot: ReadonlyArray<Metric.Metric.Snapshot>, metric: Metric.Gauge<number>) =>
  Object.fromEntries(seriesOf(snapshot, metric).flatMap((series) =>
    series.type === "Gauge" ? [[label(series.attributes), Number(series.state.value)]] : []
  ))

/** Every series of a histogram, by label: its count and sum. */
const histograms = (snapshot: ReadonlyArray<Metric.Metric.Snapshot>, metric: Metric.Histogram<number>) =>
  Object.fromEntries(seriesOf(snapshot, metric).flatMap((series) =>
    series.type === "Histogram" ? [[label(series.attributes), { count: series.state.count, sum: series.state.sum }]] : []
  ))

/**
 * The scripted deployments of application "shop": `ok` succeeds 3 times, `failing` rolls back twice (its job `b`
 * fails), `leaky` ends rollback_failed once (`b` fails, then `a`'s rollback fails), and `retried` succeeds once with
 * a job that fails twice before succeeding under `Job.retry`. Returns the metric snapshot after them.
 */
const script = Effect.gen(function*() {
  const log = makeLog()
  let calls = 0
  const flaky = Job.make("flaky", {
    input: Counter,
    output: Counter,
    error: Boom,
    execute: ({ n }) => Effect.suspend(() => ++calls <= 2 ? Effect.fail(new Boom({ job: "flaky" })) : Effect.succeed({ n })),
    retry: Schedule.recurs(2)
  })
  const ok = Action.make("ok", [step("a", log), step("b", log)])
  const failing = Action.make("failing", [step("a", log), step("b", log, { fails: true })])
  const leaky = Action.make("leaky", [step("a", log, { rollbackFails: "error" }), step("b", log, { fails: true })])
  const retried = Action.make("retried", [flaky])
  const actions = yield* Actions.Actions
  yield* actions.register(ok, { application: "shop" })
  yield* actions.register(failing, { application: "shop" })
  yield* actions.register(leaky, { application: "shop" })
  yield* actions.register(retried, { application: "shop" })
  for (let n = 0; n < 3; n++) yield* actions.execute(ok, { n })
  for (let n = 0; n < 2; n++) assert.strictEqual((yield* failedDeployment(actions.execute(failing, { n }))).status, "rolled_back")
  assert.strictEqual((yield* failedDeployment(actions.execute(leaky, { n: 0 }))).status, "rollback_failed")
  yield* actions.execute(retried, { n: 0 })
  assert.strictEqual(calls, 3)
})

const scripted = script.pipe(withActions, Effect.andThen(Metric.snapshot))

/** The scripted deployments, counted as started and by how they ended. */
const assertScriptedOutcomes = (snapshot: ReadonlyArray<Metric.Metric.Snapshot>) => {
  assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsStarted), {
    "shop/ok": 3,
    "shop/failing": 2,
    "shop/leaky": 1,
    "shop/retried": 1
  })
  assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsSucceeded), { "shop/ok": 3, "shop/retried": 1 })
  assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsRolledBack), { "shop/failing": 2 })
  assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsRollbackFailed), { "shop/leaky": 1 })
}

const leaseTtl = { recovery: { leaseTtl: "30 seconds" } } as const

describe("Metrics", () => {
  it.effect("counts deployments started and how they ended, per application and action", () =>
    isolated(Effect.gen(function*() {
      const snapshot = yield* scripted
      assertScriptedOutcomes(snapshot)
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsPaused), {})
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsClaimed), {})
      assert.deepStrictEqual(counts(snapshot, Metrics.leasesLost), {})
    })))

  it.effect("counts job attempts once per attempt (Job.retry's retries within it), and failures by job and error type", () =>
    isolated(Effect.gen(function*() {
      const snapshot = yield* scripted
      assert.deepStrictEqual(counts(snapshot, Metrics.jobAttempts), {
        "shop/ok/a": 3,
        "shop/ok/b": 3,
        "shop/failing/a": 2,
        "shop/failing/b": 2,
        "shop/leaky/a": 1,
        "shop/leaky/b": 1,
        "shop/retried/flaky": 1
      })
      assert.deepStrictEqual(counts(snapshot, Metrics.jobFailures), {
        "shop/failing/b/Boom": 2,
        "shop/leaky/b/Boom": 1
      })
    })))

  it.effect("counts rollbacks run and failed by job", () =>
    isolated(Effect.gen(function*() {
      const snapshot = yield* scripted
      assert.deepStrictEqual(counts(snapshot, Metrics.rollbacksRun), {
        "shop/failing/b": 2,
        "shop/failing/a": 2,
        "shop/leaky/b": 1,
        "shop/leaky/a": 1
      })
      assert.deepStrictEqual(counts(snapshot, Metrics.rollbacksFailed), { "shop/leaky/a": 1 })
    })))

  it.effect("records a duration for every attempt, run and checkpoint, and no deployment left in flight", () =>
    isolated(Effect.gen(function*() {
      const snapshot = yield* scripted
      const jobDurations = histograms(snapshot, Metrics.jobDuration)
      assert.deepStrictEqual(
        Object.fromEntries(Object.entries(jobDurations).map(([key, { count }]) => [key, count])),
        counts(snapshot, Metrics.jobAttempts)
      )
      assert.deepStrictEqual(histograms(snapshot, Metrics.deploymentDuration), {
        "shop/ok/succeeded": { count: 3, sum: 0 },
        "shop/failing/rolled_back": { count: 2, sum: 0 },
        "shop/leaky/rollback_failed": { count: 1, sum: 0 },
        "shop/retried/succeeded": { count: 1, sum: 0 }
      })
      // Checkpoints per deployment: `ok` two (a's boundary, the last job); `failing` and `leaky` four (a's boundary,
      // b's failure, b's rollback step, a's rollback step with the terminal status); `retried` one.
      assert.deepStrictEqual(histograms(snapshot, Metrics.checkpointDuration), {
        "shop/ok": { count: 6, sum: 0 },
        "shop/failing": { count: 8, sum: 0 },
        "shop/leaky": { count: 4, sum: 0 },
        "shop/retried": { count: 1, sum: 0 }
      })
      assert.deepStrictEqual(gauges(snapshot, Metrics.deploymentsInFlight), {
        "shop/ok": 0,
        "shop/failing": 0,
        "shop/leaky": 0,
        "shop/retried": 0
      })
    })))

  it.effect("measures durations in seconds on the fiber's clock, in the histograms' buckets", () =>
    isolated(Effect.gen(function*() {
      const log = makeLog()
      const timed = Action.make("timed", [
        Job.make("wait", {
          input: Counter,
          output: Counter,
          execute: ({ n }) => Effect.as(Effect.sleep("2 seconds"), { n })
        }),
        step("quick", log)
      ])
      yield* withActions(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        yield* actions.register(timed, { application: "shop" })
        const fiber = yield* Effect.forkChild(actions.execute(timed, { n: 0 }))
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(fiber)
      }))
      const snapshot = yield* Metric.snapshot
      assert.deepStrictEqual(histograms(snapshot, Metrics.jobDuration), {
        "shop/timed/wait": { count: 1, sum: 2 },
        "shop/timed/quick": { count: 1, sum: 0 }
      })
      assert.deepStrictEqual(histograms(snapshot, Metrics.deploymentDuration), {
        "shop/timed/succeeded": { count: 1, sum: 2 }
      })
      const run = yield* Metric.value(
        Metric.withAttributes(Metrics.deploymentDuration, { application: "shop", action: "timed", outcome: "succeeded" })
      )
      const cumulative = Object.fromEntries(run.buckets)
      assert.deepStrictEqual([cumulative[1], cumulative[2.5], cumulative[21600]], [0, 1, 1])
      assert.deepStrictEqual(histograms(snapshot, Metrics.checkpointDuration), { "shop/timed": { count: 2, sum: 0 } })
      const series = seriesOf(snapshot, Metrics.jobDuration)[0]!
      assert.strictEqual(series.attributes?.unit, "seconds")
    })))

  it.effect("counts a deployment in flight while it runs, and back at 0 when it ends", () =>
    isolated(Effect.gen(function*() {
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const blocking = Action.make("blocking", [step("a", log), blockingOnFirstAttempt("b", log, started, gate)])
      const inFlight = Metric.withAttributes(Metrics.deploymentsInFlight, { application: "shop", action: "blocking" })
      yield* withActions(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        yield* actions.register(blocking, { application: "shop" })
        const id = yield* actions.start(blocking, { n: 0 })
        yield* Deferred.await(started)
        assert.strictEqual((yield* Metric.value(inFlight)).value, 1)
        assert.deepStrictEqual(counts(yield* Metric.snapshot, Metrics.deploymentsSucceeded), {})
        yield* Deferred.succeed(gate, undefined)
        yield* actions.awaitById(id)
      }))
      assert.strictEqual((yield* Metric.value(inFlight)).value, 0)
      assert.deepStrictEqual(counts(yield* Metric.snapshot, Metrics.deploymentsSucceeded), { "shop/blocking": 1 })
    })))

  it.effect("counts claims and resumes in the process that takes a crashed deployment over", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const deploy = Action.make("deploy", [step("a", log), blockingOnFirstAttempt("b", log, started, gate)])
      const first = yield* startProcess(store, "process-1", leaseTtl)
      yield* first.actions.register(deploy, { application: "shop" })
      const id = yield* first.actions.start(deploy, { n: 0 })
      yield* Deferred.await(started)
      yield* first.crash
      const second = yield* startProcess(store, "process-2", leaseTtl)
      yield* second.actions.register(deploy, { application: "shop" })
      yield* TestClock.adjust("31 seconds")
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
      yield* second.actions.awaitById(id)
      yield* second.shutdown

      const snapshot = yield* Metric.snapshot
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsStarted), { "shop/deploy": 1 })
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsClaimed), { "shop/deploy": 1 })
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsResumed), { "shop/deploy": 1 })
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsSucceeded), { "shop/deploy": 1 })
      assert.deepStrictEqual(counts(snapshot, Metrics.leasesLost), {})
      assert.deepStrictEqual(counts(snapshot, Metrics.jobAttempts), { "shop/deploy/a": 1, "shop/deploy/b": 2 })
      assert.deepStrictEqual(
        Object.keys(histograms(snapshot, Metrics.deploymentDuration)).sort(),
        ["shop/deploy/abandoned", "shop/deploy/succeeded"]
      )
      assert.deepStrictEqual(gauges(snapshot, Metrics.deploymentsInFlight), { "shop/deploy": 0 })
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("counts a lease lost by a process whose deployment another process took over", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const deploy = Action.make("deploy", [step("a", log), blockingOnFirstAttempt("b", log, started, gate)])
      const first = yield* startProcess(store, "process-1", leaseTtl)
      yield* first.actions.register(deploy, { application: "shop" })
      const id = yield* first.actions.start(deploy, { n: 0 })
      yield* Deferred.await(started)
      // Partitioned from the store long enough for its lease to expire; another process takes the deployment over.
      first.connection.cut()
      yield* TestClock.adjust("31 seconds")
      const second = yield* startProcess(store, "process-2", leaseTtl)
      yield* second.actions.register(deploy, { application: "shop" })
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
      yield* second.actions.awaitById(id)
      // The partition heals: the first process finds its lease lost and stops its run.
      first.connection.restore()
      yield* Deferred.succeed(gate, undefined)
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual(counts(yield* Metric.snapshot, Metrics.leasesLost), { "shop/deploy": 1 })
      yield* first.shutdown
      yield* second.shutdown
      assert.deepStrictEqual(gauges(yield* Metric.snapshot, Metrics.deploymentsInFlight), { "shop/deploy": 0 })
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("counts a deployment the failure policy paused, and its retry's outcome", () =>
    Effect.gen(function*() {
      const switched = { failing: true }
      const quota = Job.make("quota", {
        input: Counter,
        output: Counter,
        execute: ({ n }) => switched.failing ? Effect.fail(new Boom({ job: "quota" })) : Effect.succeed({ n: n + 1 })
      })
      const snapshot = yield* Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const paused = Action.make("paused", [step("a", makeLog()), quota], { onFailure: "pause" })
        yield* actions.register(paused, { application: "shop" })
        const id = yield* actions.start(paused, { n: 0 }, { application: "shop" })
        yield* TestClock.adjust("10 millis")
        switched.failing = false
        yield* actions.retry(id)
        yield* actions.awaitById(id)
        return yield* Metric.snapshot
      }).pipe(withActions)
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsPaused), { "shop/paused": 1 })
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsSucceeded), { "shop/paused": 1 })
      assert.deepStrictEqual(
        Object.keys(histograms(snapshot, Metrics.deploymentDuration)).sort(),
        ["shop/paused/paused", "shop/paused/succeeded"]
      )
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("counts a deployment as started once, however many operators' operations take it over", () =>
    Effect.gen(function*() {
      const quotaFails = { failing: true }
      const undoFails = { failing: true }
      const reserve = Job.make("reserve", {
        input: Counter,
        output: Counter,
        execute: ({ n }) => Effect.succeed({ n: n + 1 }),
        rollback: () => undoFails.failing ? Effect.fail(new Boom({ job: "reserve" })) : Effect.void
      })
      const quota = Job.make("quota", {
        input: Counter,
        output: Counter,
        execute: ({ n }) => quotaFails.failing ? Effect.fail(new Boom({ job: "quota" })) : Effect.succeed({ n: n + 1 })
      })
      const snapshot = yield* Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const operated = Action.make("operated", [reserve, quota], { onFailure: "pause" })
        yield* actions.register(operated, { application: "shop" })
        const resting = (id: string) => Effect.map(settled(actions, id), (deployment) => deployment.status)
        const id = yield* actions.start(operated, { n: 0 }, { application: "shop" })
        assert.strictEqual(yield* resting(id), "paused")
        yield* actions.retry(id)
        assert.strictEqual(yield* resting(id), "paused", "the retry failed again")
        yield* actions.rollback(id)
        assert.strictEqual(yield* resting(id), "rollback_failed")
        undoFails.failing = false
        yield* actions.retryRollback(id)
        assert.strictEqual(yield* resting(id), "rolled_back")
        quotaFails.failing = false
        const receipt = yield* actions.restart(id)
        const restarted = Option.getOrThrow(receipt.restartedAs)
        assert.strictEqual(yield* resting(restarted), "succeeded")
        return yield* Metric.snapshot
      }).pipe(withActions)
      // the deployment and its restart; the retry, the rollback and the retry of the rollback start nothing
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsStarted), { "shop/operated": 2 })
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsPaused), { "shop/operated": 2 })
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsRollbackFailed), { "shop/operated": 1 })
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsRolledBack), { "shop/operated": 1 })
      assert.deepStrictEqual(counts(snapshot, Metrics.deploymentsSucceeded), { "shop/operated": 1 })
      assert.deepStrictEqual(gauges(snapshot, Metrics.deploymentsInFlight), { "shop/operated": 0 })
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("records into the registry of the fibers that run the deployments, not effect's global one", () =>
    Effect.gen(function*() {
      const registry: Metric.MetricRegistry = new Map()
      yield* Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const once = Action.make("once", [step("a", makeLog())])
        yield* actions.register(once, { application: "registry-isolation" })
        yield* actions.execute(once, { n: 0 })
      }).pipe(withActions, Effect.provideService(Metric.MetricRegistry, registry))
      const mine = counts(Metric.snapshotUnsafe(Context.make(Metric.MetricRegistry, registry)), Metrics.deploymentsSucceeded)
      assert.deepStrictEqual(mine, { "registry-isolation/once": 1 })
      const global = counts(yield* Metric.snapshot, Metrics.deploymentsSucceeded)
      assert.isUndefined(global["registry-isolation/once"])
    }))
})

describe("Metrics on PostgreSQL", () => {
  it.live("count the scripted deployments, attempts, rollbacks and checkpoints as on the memory store", () =>
    isolated(Effect.gen(function*() {
      const { store } = yield* freshStore()
      const snapshot = yield* script.pipe(
        Effect.provide(Actions.layer({ recovery: { enabled: false } })),
        Effect.provideService(DeploymentStore.DeploymentStore, store),
        Effect.andThen(Metric.snapshot)
      )
      assertScriptedOutcomes(snapshot)
      assert.deepStrictEqual(counts(snapshot, Metrics.rollbacksFailed), { "shop/leaky/a": 1 })
      assert.deepStrictEqual(counts(snapshot, Metrics.jobFailures), { "shop/failing/b/Boom": 2, "shop/leaky/b/Boom": 1 })
      const checkpoints = histograms(snapshot, Metrics.checkpointDuration)
      assert.deepStrictEqual(
        Object.fromEntries(Object.entries(checkpoints).map(([key, { count }]) => [key, count])),
        { "shop/ok": 6, "shop/failing": 8, "shop/leaky": 4, "shop/retried": 1 }
      )
      for (const [key, { sum }] of Object.entries(checkpoints)) {
        assert.isAbove(sum, 0, `${key}: a checkpoint on PostgreSQL takes time on the real clock`)
      }
      assert.deepStrictEqual(gauges(snapshot, Metrics.deploymentsInFlight), {
        "shop/ok": 0,
        "shop/failing": 0,
        "shop/leaky": 0,
        "shop/retried": 0
      })
    }).pipe(Effect.scoped, Effect.provide(PgLive))), 60_000)
})
