/**
 * Issue 7 on PostgreSQL: values `jsonb` cannot hold never loop, leases are judged on the server's clock, and a
 * property test that puts arbitrary values everywhere a job can put one.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Arbitrary, Clock, Context, Deferred, Duration, Effect, Exit, Layer, Option, Redacted, Schema, Scope } from "effect"
import { Action, Actions, DeploymentStore, Job, JobContext, State } from "effect-actions"
import { Counter, failedDeployment, makeLog, step } from "./support/jobs.ts"
import { databaseUrl, PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"
import { connect } from "./support/processes.ts"

/** The SQL store on fresh tables, as a service value (the tables are dropped when the scope closes). */
const sqlStore = Effect.map(
  Layer.build(storeLayer(uniquePrefix())),
  (context) => ({ store: Context.get(context, DeploymentStore.DeploymentStore) })
)

/** A clock `offset` ahead of (or behind) the real one; sleeps are real. */
const skewedClock = (real: Clock.Clock, offset: Duration.Duration): Clock.Clock => {
  const millis = Duration.toMillis(offset)
  return {
    currentTimeMillisUnsafe: () => real.currentTimeMillisUnsafe() + millis,
    currentTimeMillis: Effect.sync(() => real.currentTimeMillisUnsafe() + millis),
    currentTimeNanosUnsafe: () => real.currentTimeNanosUnsafe() + BigInt(millis) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => real.currentTimeNanosUnsafe() + BigInt(millis) * 1_000_000n),
    monotonicTimeNanosUnsafe: () => real.monotonicTimeNanosUnsafe(),
    monotonicTimeNanos: real.monotonicTimeNanos,
    sleep: (duration) => real.sleep(duration)
  }
}

/** A runtime in its own scope over `store`, with its own clock; `crash` cuts its connection, then closes it. */
const runtime = (
  store: DeploymentStore.DeploymentStoreShape,
  owner: string,
  clock: Clock.Clock,
  options: Actions.Options
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const connection = connect(store)
    const actions = yield* Actions.make({ owner, ...options }).pipe(
      Effect.provideService(DeploymentStore.DeploymentStore, connection.store),
      Effect.provideService(Clock.Clock, clock),
      Scope.provide(scope),
      Effect.orDie
    )
    return {
      actions,
      crash: Effect.suspend(() => {
        connection.cut()
        return Scope.close(scope, Exit.void)
      }),
      shutdown: Scope.close(scope, Exit.void)
    }
  })

const nul = "a\u0000b"
const loneSurrogate = "🚀".slice(0, 1)

describe("Actions on PostgreSQL, faults (issue 7)", () => {
  describe("class 1: a write that can never succeed never becomes a loop", () => {
    it.live("an output jsonb cannot hold fails its job and rolls back, in one run", () =>
      Effect.gen(function*() {
        const { store } = yield* sqlStore
        const real = yield* Clock.Clock
        const process = yield* runtime(store, "p", real, { recovery: { enabled: false } })
        const log = makeLog()
        for (const text of [nul, loneSurrogate]) {
          const emit = Job.make("emit", { input: Counter, output: Schema.Struct({ n: Schema.Number, text: Schema.String }), execute: ({ n }) => Effect.succeed({ n, text }) })
          const read = Job.make("read", { input: Schema.Struct({ n: Schema.Number, text: Schema.String }), output: Counter, execute: ({ n }) => Effect.succeed({ n }) })
          const deploy = Action.make(`deploy-${text.length}-${text.charCodeAt(0)}`, [step("a", log), emit, read])
          yield* process.actions.register(deploy)
          const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
          assert.strictEqual(error.reason, "UnstorableValue")
          assert.strictEqual(error.job, "emit")
          assert.strictEqual(error.status, "rolled_back")
          const entries = yield* process.actions.errors(error.deploymentId)
          assert.deepStrictEqual(entries.map((entry) => Option.getOrUndefined(entry.job)), ["emit"])
        }
        assert.deepStrictEqual(log.events.filter((event) => event.startsWith("rollback")).length, 2)
        yield* process.shutdown
      }).pipe(Effect.scoped, Effect.provide(PgLive)), { timeout: 60_000 })

    it.live("a state, error text, job data and rollback error jsonb cannot hold all end the deployment", () =>
      Effect.gen(function*() {
        const { store } = yield* sqlStore
        const real = yield* Clock.Clock
        const process = yield* runtime(store, "p", real, { recovery: { enabled: false } })
        const Notes = State.make("Notes", { schema: Schema.String, initial: "" })
        const messy = Job.make("messy", {
          input: Counter,
          output: Counter,
          execute: (value) =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              yield* context.recordError(new Error(nul))
              const refused = yield* Effect.flip(context.setData("k", Schema.String, loneSurrogate))
              assert.strictEqual(refused._tag, "InvalidJobData")
              return value
            }),
          rollback: () => Effect.andThen(Notes.set(nul), Effect.fail(new Error(loneSurrogate)))
        })
        const fails = Job.make("fails", { input: Counter, output: Counter, execute: () => Effect.fail(new Error(`bad ${nul}`)) })
        const deploy = Action.make("deploy", [messy, fails], { state: Notes })
        yield* process.actions.register(deploy)
        const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error.status, "rollback_failed")
        assert.strictEqual(error.failureMessage, "bad a\\u0000b")
        const entries = yield* process.actions.errors(error.deploymentId)
        assert.deepStrictEqual(
          entries.slice(0, 3).map((entry) => [Option.getOrUndefined(entry.job), entry.phase, entry.message]),
          [
            ["messy", "execute", "a\\u0000b"],
            ["fails", "execute", "bad a\\u0000b"],
            ["messy", "rollback", "rollback: \\ud83d"]
          ]
        )
        // The rollback also set a state jsonb cannot hold: its step was written without it, saying so.
        assert.strictEqual(entries.length, 4)
        assert.strictEqual(entries[3]!.tag, "UnstorableValue")
        assert.match(entries[3]!.message, /^rollback: the store cannot hold the state of job "messy"/)
        yield* process.shutdown
      }).pipe(Effect.scoped, Effect.provide(PgLive)), { timeout: 60_000 })
  })

  describe("class 2: leases on the database's clock", () => {
    it.live("a runtime whose clock runs minutes ahead never claims a live deployment, and takes a dead owner's over", () =>
      Effect.gen(function*() {
        const { store } = yield* sqlStore
        const real = yield* Clock.Clock
        const log = makeLog()
        const started = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const slow = Job.make("slow", {
          input: Counter,
          output: Counter,
          execute: (value) =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              yield* log.add(`slow attempt ${context.attempt} by ${context.fencingToken}`)
              if (context.attempt === 1) {
                yield* Deferred.succeed(started, undefined)
                yield* Deferred.await(gate)
              }
              return value
            })
        })
        const deploy = Action.make("deploy", [slow])
        const recovery = { leaseTtl: "3 seconds", heartbeat: "500 millis", pollInterval: "100 millis" } as const
        const owner = yield* runtime(store, "owner", real, { recovery })
        const ahead = yield* runtime(store, "ahead", skewedClock(real, Duration.minutes(10)), { recovery })
        const behind = yield* runtime(store, "behind", skewedClock(real, Duration.minutes(-10)), { recovery })
        yield* owner.actions.register(deploy)
        yield* ahead.actions.register(deploy)
        yield* behind.actions.register(deploy)
        const id = yield* owner.actions.start(deploy, { n: 1 })
        yield* Deferred.await(started)
        // Two lease lengths while the owner heartbeats: the skewed runtimes poll 60 times and claim nothing.
        yield* Effect.sleep("6 seconds")
        assert.deepStrictEqual(log.events, ["slow attempt 1 by 1"])
        assert.strictEqual((yield* owner.actions.get(id)).owner.pipe(Option.getOrUndefined), "owner")
        // The owner dies: after the lease (server time), one of the others resumes it.
        yield* owner.crash
        const result = yield* ahead.actions.awaitById(id).pipe(Effect.timeout("20 seconds"))
        assert.deepStrictEqual(result.output, { n: 1 })
        assert.deepStrictEqual(log.events, ["slow attempt 1 by 1", "slow attempt 2 by 2"])
        yield* ahead.shutdown
        yield* behind.shutdown
      }).pipe(Effect.scoped, Effect.provide(PgLive)), { timeout: 60_000 })
  })

  describe("class 4: connections and shutdown never hang", () => {
    it.live("the runtime on a pool of one connection runs, stops and is released", () =>
      Effect.gen(function*() {
        const { store } = yield* sqlStore
        const real = yield* Clock.Clock
        const process = yield* runtime(store, "p", real, { recovery: { enabled: false }, shutdownTimeout: "5 seconds" })
        const log = makeLog()
        const started = yield* Deferred.make<void>()
        const waits = Job.make("waits", {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.andThen(Deferred.succeed(started, undefined), Effect.as(Effect.never, value)),
          rollback: () => log.add("rollback waits")
        })
        const quick = Action.make("quick", [step("a", log), step("b", log)])
        const slow = Action.make("slow", [waits])
        yield* process.actions.register(quick)
        yield* process.actions.register(slow)
        assert.deepStrictEqual((yield* process.actions.execute(quick, { n: 0 })).output, { n: 2 })
        const id = yield* process.actions.start(slow, { n: 0 })
        yield* Deferred.await(started)
        yield* process.actions.stop(id)
        const error = yield* failedDeployment(process.actions.awaitById(id))
        assert.strictEqual(error.reason, "ExecutionStopped")
        yield* process.shutdown
        assert.deepStrictEqual(log.events, ["run a 0", "run b 1", "rollback waits"])
      }).pipe(
        Effect.scoped,
        Effect.provide(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 1 }).pipe(Layer.orDie)),
        Effect.timeout("30 seconds")
      ), { timeout: 60_000 })
  })

  describe("proof: arbitrary values everywhere a job puts one", () => {
    const piece = Arbitrary.schema(Schema.Literals(["a", "z", "\u0000", "\ud83d", "\ude80", "🚀", "é", "'", "\"", "\\", "%", "$1", "\n", " "]))
    const text = Arbitrary.map(Arbitrary.array(piece, { maxLength: 12 }), (pieces) => pieces.join(""))
    const long = Arbitrary.map(
      Arbitrary.all([text, Arbitrary.schema(Schema.Literals([0, 1, 1_000, 100_000]))]),
      ([base, times]) => (base === "" ? "x" : base).repeat(times)
    )
    const depth = Arbitrary.schema(Schema.Literals([0, 1, 50, 3_000]))
    const Case = Arbitrary.all({
      output: text,
      state: text,
      data: text,
      error: long,
      nested: depth,
      failAt: Arbitrary.schema(Schema.Literals([0, 1, 2, 3])),
      rollbackFails: Arbitrary.schema(Schema.Boolean)
    })

    type CaseValue = typeof Case extends Arbitrary.Arbitrary<infer A> ? A : never

    const nest = (levels: number, leaf: string): unknown => {
      let value: unknown = leaf
      for (let level = 0; level < levels; level++) value = [value]
      return value
    }

    it.live("every deployment ends terminal, no job runs again after its checkpoint, and the error log names the failing job", () =>
      Effect.gen(function*() {
        const { store } = yield* sqlStore
        const real = yield* Clock.Clock
        const process = yield* runtime(store, "p", real, {
          recovery: { leaseTtl: "2 seconds", heartbeat: "500 millis", pollInterval: "100 millis" }
        })
        const Notes = State.make("Notes", { schema: Schema.String, initial: "" })
        const Value = Schema.Struct({ text: Schema.String, nested: Schema.Unknown })
        const runs = new Map<string, number>()
        let current = undefined as unknown as CaseValue
        const count = (job: string) =>
          Effect.flatMap(JobContext.JobContext, (context) =>
            Effect.sync(() => {
              const key = `${context.deploymentId}/${job}`
              runs.set(key, (runs.get(key) ?? 0) + 1)
            }))
        const job = (name: string, index: number) =>
          Job.make(name, {
            input: Schema.Unknown,
            output: Value,
            execute: () =>
              Effect.gen(function*() {
                yield* count(name)
                const context = yield* JobContext.JobContext
                const c = current
                yield* Notes.set(c.state)
                yield* Effect.ignore(context.setData("d", Schema.String, c.data))
                if (index === c.failAt) return yield* Effect.fail(new Error(c.error))
                yield* context.recordError(new Error(c.error))
                return { text: c.output, nested: nest(c.nested, c.output) }
              }),
            rollback: () => current.rollbackFails ? Effect.fail(new Error(current.error)) : Effect.void
          })
        const deploy = Action.make("arbitrary", [job("one", 0), job("two", 1), job("three", 2)], { state: Notes })
        yield* process.actions.register(deploy)

        const result = yield* Arbitrary.checkEffect(Case, (generated) =>
          Effect.gen(function*() {
            current = generated
            const id = yield* process.actions.start(deploy, null)
            const outcome = yield* Effect.result(process.actions.awaitById(id).pipe(Effect.timeout("30 seconds")))
            const deployment = yield* process.actions.get(id)
            assert.isTrue(
              ["succeeded", "rolled_back", "rollback_failed"].includes(deployment.status),
              `ends terminal, got ${deployment.status}`
            )
            for (const name of ["one", "two", "three"]) {
              assert.isAtMost(runs.get(`${id}/${name}`) ?? 0, 1, `job ${name} ran again after its checkpoint`)
            }
            if (outcome._tag === "Failure") {
              const failed = outcome.failure
              assert.strictEqual(failed._tag, "DeploymentFailed", String(failed))
              if (failed._tag === "DeploymentFailed") {
                const entries = yield* process.actions.errors(id)
                assert.isTrue(
                  entries.some((entry) => Option.getOrUndefined(entry.job) === failed.job),
                  `the error log names the failing job ${failed.job}`
                )
              }
            }
            return true
          }), { runs: 30, seed: 7 })
        assert.strictEqual(result._tag, "Passed", Arbitrary.formatCheckFailure(result))
        yield* process.shutdown
      }).pipe(Effect.scoped, Effect.provide(PgLive)), { timeout: 180_000 })
  })
})
