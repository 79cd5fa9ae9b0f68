import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { Action, ActionError, DeploymentStore, Job, SqlDeploymentStore } from "effect-actions"
import { Boom, Counter, makeLog, quota, step } from "./support/jobs.ts"
import { freshStore, PgLive } from "./support/postgres.ts"
import { startProcess } from "./support/processes.ts"
import { settledLive as settled } from "./support/settled.ts"

/** A second connection to the same tables, as another process would have. */
const sameTables = (prefix: string) =>
  Effect.map(
    Layer.build(SqlDeploymentStore.layer({ prefix }).pipe(Layer.orDie)),
    (context) => Context.get(context, DeploymentStore.DeploymentStore)
  )

describe("Actions operations on PostgreSQL", () => {
  it.live("pauses a failed deployment, retries it with a replacement input, and records it", () =>
    Effect.gen(function*() {
      const { store } = yield* freshStore()
      const log = makeLog()
      const action = Action.make("provision", [step("a", log), quota(log, { failing: false }, 10), step("c", log)], {
        onFailure: "pause"
      })
      const worker = yield* startProcess(store, "worker")
      yield* worker.actions.register(action)
      const id = yield* worker.actions.start(action, { n: 0 })
      const paused = yield* settled(worker.actions, id)
      assert.strictEqual(paused.status, "paused")
      assert.isTrue(Option.isNone(paused.owner))
      assert.deepStrictEqual(
        (yield* worker.actions.list({ statuses: ["paused"] })).items.map((item) => item.id),
        [id]
      )

      yield* worker.actions.retry(id, { input: { n: 10 }, reason: "quota raised" })
      const deployment = yield* settled(worker.actions, id)

      assert.strictEqual(deployment.status, "succeeded")
      assert.deepStrictEqual(deployment.jobs.map((job) => job.attempts), [1, 2, 1])
      assert.isTrue(Option.isNone(deployment.failure))
      assert.isTrue(Option.isSome(deployment.jobs[1]!.finishedAt), "the retried job finished")
      assert.deepStrictEqual(
        deployment.history.map((entry) => [entry.operation, entry.outcome, Option.getOrUndefined(entry.detail)]),
        [["retry", "done", { replacedInput: { n: 1 } }]]
      )
      assert.strictEqual(yield* worker.actions.prune({ olderThan: "0 millis" }), 1)
      yield* worker.shutdown
    }).pipe(Effect.scoped, Effect.provide(PgLive)))

  it.live("a stop given the id in upper case interrupts the local run at once, as the id as stored does", () =>
    Effect.gen(function*() {
      const { store } = yield* freshStore()
      const blocked = Job.make("blocked", { input: Counter, output: Counter, execute: () => Effect.never })
      const action = Action.make("blocks", [blocked])
      // No stop notifications and a heartbeat a minute apart: only the local interrupt can stop the run soon.
      const worker = yield* startProcess(store, "worker", {
        withoutStopNotifications: true,
        recovery: { leaseTtl: "3 minutes", heartbeat: "1 minute" }
      })
      yield* worker.actions.register(action)
      const id = yield* worker.actions.start(action, { n: 0 })
      assert.strictEqual((yield* worker.actions.stop(id.toUpperCase())).outcome, "done")
      const deployment = yield* Effect.timeout(settled(worker.actions, id), "30 seconds")
      assert.strictEqual(deployment.status, "rolled_back")
      yield* worker.shutdown
    }).pipe(Effect.scoped, Effect.provide(PgLive)), 60_000)

  it.live("retries failed rollbacks: only those run again, and the deployment ends rolled_back", () =>
    Effect.gen(function*() {
      const { store } = yield* freshStore()
      const log = makeLog()
      const broken = { failing: true }
      const release = Job.make("release", {
        input: Counter,
        output: Counter,
        execute: ({ n }) => Effect.succeed({ n: n + 1 }),
        rollback: () =>
          Effect.andThen(log.add("rollback release"), broken.failing ? Effect.fail(new Boom({ job: "release" })) : Effect.void)
      })
      const action = Action.make("teardown", [step("a", log), release, step("c", log, { fails: true })])
      const worker = yield* startProcess(store, "worker")
      yield* worker.actions.register(action)
      const id = yield* worker.actions.start(action, { n: 0 })
      assert.strictEqual((yield* settled(worker.actions, id)).status, "rollback_failed")
      broken.failing = false
      yield* worker.actions.retryRollback(id)
      const deployment = yield* settled(worker.actions, id)

      assert.strictEqual(deployment.status, "rolled_back")
      assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rolled_back", "rolled_back"])
      assert.strictEqual(log.events.filter((event) => event.startsWith("rollback a")).length, 1)
      assert.strictEqual(log.events.filter((event) => event === "rollback release").length, 2)
      yield* worker.shutdown
    }).pipe(Effect.scoped, Effect.provide(PgLive)))

  it.live("a process without the action records a request; a worker on another connection carries it out", () =>
    Effect.gen(function*() {
      const { prefix, store } = yield* freshStore()
      const log = makeLog()
      const switched = { failing: true }
      const action = Action.make("provision", [step("a", log), quota(log, switched), step("c", log)], {
        onFailure: "pause"
      })
      const worker = yield* startProcess(store, "worker", { recovery: { enabled: true, pollInterval: "50 millis" } })
      const cli = yield* startProcess(yield* sameTables(prefix), "cli")
      yield* worker.actions.register(action)
      const id = yield* worker.actions.start(action, { n: 0 })
      yield* settled(cli.actions, id)
      switched.failing = false

      const receipt = yield* cli.actions.retry(id, { reason: "quota raised" })
      assert.strictEqual(receipt.outcome, "requested")
      const refused = yield* Effect.flip(cli.actions.stop(id))
      assert.instanceOf(refused, ActionError.OperationRefused)
      const deployment = yield* Effect.gen(function*() {
        while (true) {
          const current = yield* settled(cli.actions, id)
          if (current.status === "succeeded") return current
          yield* Effect.sleep("20 millis")
        }
      }).pipe(Effect.timeout("10 seconds"))

      assert.isTrue(Option.isNone(deployment.request))
      assert.deepStrictEqual(
        deployment.history.map((entry) => [entry.operation, entry.outcome, entry.by]),
        [["retry", "requested", "cli"], ["retry", "done", "cli"]]
      )
      yield* worker.shutdown
      yield* cli.shutdown
    }).pipe(Effect.scoped, Effect.provide(PgLive)))

  it.live("two processes retrying one paused deployment at once: the database lets exactly one take it over", () =>
    Effect.gen(function*() {
      const { prefix, store } = yield* freshStore()
      const log = makeLog()
      const switched = { failing: true }
      const action = Action.make("provision", [step("a", log), quota(log, switched), step("c", log)], {
        onFailure: "pause"
      })
      const first = yield* startProcess(store, "first")
      const second = yield* startProcess(yield* sameTables(prefix), "second")
      yield* first.actions.register(action)
      yield* second.actions.register(action)
      const ids: Array<string> = []
      for (let n = 0; n < 10; n++) ids.push(yield* first.actions.start(action, { n }))
      for (const id of ids) yield* settled(first.actions, id)
      switched.failing = false

      for (const id of ids) {
        const results = yield* Effect.all(
          [Effect.result(first.actions.retry(id)), Effect.result(second.actions.retry(id))],
          { concurrency: 2 }
        )
        assert.strictEqual(results.filter((result) => result._tag === "Success").length, 1, id)
        for (const result of results) {
          if (result._tag === "Failure") assert.instanceOf(result.failure, ActionError.OperationRefused)
        }
      }
      for (const id of ids) {
        const deployment = yield* settled(first.actions, id)
        assert.strictEqual(deployment.status, "succeeded")
        assert.strictEqual(deployment.history.length, 1)
        assert.strictEqual(deployment.jobs[1]!.attempts, 2, "the failed job ran once more, not twice")
      }
      yield* first.shutdown
      yield* second.shutdown
    }).pipe(Effect.scoped, Effect.provide(PgLive)))

  it.live("restarts a finished deployment, linked to it, and bulk rolls back paused ones after a dry run", () =>
    Effect.gen(function*() {
      const { store } = yield* freshStore()
      const log = makeLog()
      const action = Action.make("provision", [step("a", log), quota(log, { failing: true })], { onFailure: "pause" })
      const plain = Action.make("plain", [step("a", log)])
      const worker = yield* startProcess(store, "worker")
      yield* worker.actions.register(action)
      yield* worker.actions.register(plain)
      const done = yield* worker.actions.start(plain, { n: 3 })
      yield* settled(worker.actions, done)
      const receipt = yield* worker.actions.restart(done, { key: "again" })
      const restarted = yield* settled(worker.actions, Option.getOrThrow(receipt.restartedAs))
      assert.strictEqual(restarted.status, "succeeded")
      assert.deepStrictEqual(Option.getOrUndefined(restarted.restartOf), done)

      const paused: Array<string> = []
      for (let n = 0; n < 3; n++) paused.push(yield* worker.actions.start(action, { n }))
      for (const id of paused) yield* settled(worker.actions, id)
      const dry = yield* worker.actions.bulk({ operation: "rollback", dryRun: true })
      assert.deepStrictEqual([...dry.ids].sort(), [...paused].sort())
      const real = yield* worker.actions.bulk({ operation: "rollback" })
      assert.deepStrictEqual(real.items.map((item) => item.outcome), ["done", "done", "done"])
      for (const id of paused) assert.strictEqual((yield* settled(worker.actions, id)).status, "rolled_back")
      yield* worker.shutdown
    }).pipe(Effect.scoped, Effect.provide(PgLive)))
})
