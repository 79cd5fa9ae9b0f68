import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Layer, Option, Redacted, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { Action, Actions, DeploymentStore, Job, JobContext, SqlDeploymentStore } from "effect-actions"
import { Boom, Counter, failedDeployment, makeLog, step } from "./support/jobs.ts"
import { countingClient, databaseUrl, PgLive, type RoundTrips, storeLayer, uniquePrefix } from "./support/postgres.ts"

/** The runtime on the SQL store, on fresh tables of its own, over the given client. */
const actionsOn = <E>(client: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, E>, prefix = uniquePrefix()) =>
  Actions.layer({ recovery: { enabled: false } }).pipe(
    Layer.provideMerge(storeLayer(prefix)),
    Layer.provideMerge(client)
  )

/** Runs a test body with the runtime; the body's own finalizers run while the database client is still open. */
const withActions = <E>(client: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, E>, prefix = uniquePrefix()) =>
<A, E2, R>(body: Effect.Effect<A, E2, R>) => Effect.provide(Effect.scoped(body), actionsOn(client, prefix))

/** A side table the transactional jobs write to, on the same database. */
const sideTable = (prefix: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const table = `${prefix}side`
    yield* sql`CREATE TABLE ${sql(table)} (deployment_id text, job text)`
    yield* Effect.addFinalizer(() => Effect.ignore(sql`DROP TABLE IF EXISTS ${sql(table)}`))
    const insert = Effect.gen(function*() {
      const context = yield* JobContext.JobContext
      yield* Effect.orDie(sql`INSERT INTO ${sql(table)} VALUES (${context.deploymentId}, ${context.job})`)
    })
    const rows = (deploymentId: string) =>
      Effect.map(
        Effect.orDie(sql<{ job: string }>`SELECT job FROM ${sql(table)} WHERE deployment_id = ${deploymentId}`),
        (found) => found.map((row) => row.job)
      )
    return { insert, rows }
  })

describe("Actions on PostgreSQL", () => {
  it.live("commits at most N + 1 transactions for an N-job deployment that succeeds", () =>
    Effect.gen(function*() {
      const roundTrips: RoundTrips = { statuses: [] }
      const counted = Effect.gen(function*() {
        const log = makeLog()
        const jobs = [step("a", log), step("b", log), step("c", log), step("d", log), step("e", log)] as const
        const deploy = Action.make("deploy", [...jobs])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        yield* actions.execute(deploy, { n: 0 }) // warms the connection and the prepared statements
        const before = roundTrips.statuses.length
        const { output } = yield* actions.execute(deploy, { n: 0 })
        const statuses = roundTrips.statuses.slice(before)
        assert.deepStrictEqual(output, { n: 5 })
        // Every round trip is one statement outside any transaction block ("I"), so one implicit commit each.
        assert.isTrue(statuses.every((status) => status === "I"), statuses.join(""))
        assert.isAtMost(statuses.length, jobs.length + 1)
        assert.strictEqual(statuses.length, jobs.length + 1, "create + one checkpoint per job")
      })
      // Two connections: the runtime's LISTEN for stop requests holds one for as long as it runs.
      yield* counted.pipe(withActions(countingClient(roundTrips, 2)))
    }), { timeout: 60_000 })

  describe("transactional jobs", () => {
    it.live("commit their writes with their checkpoint", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const side = yield* sideTable(uniquePrefix())
        const write = Job.make("write", { input: Counter, output: Counter, transactional: true, execute: (v) => Effect.as(side.insert, v) })
        const deploy = Action.make("deploy", [write])
        yield* actions.register(deploy)
        const { deploymentId } = yield* actions.execute(deploy, { n: 0 })
        assert.deepStrictEqual(yield* side.rows(deploymentId), ["write"])
      }).pipe(withActions(PgLive)), { timeout: 60_000 })

    it.live("leave nothing behind when they fail", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const side = yield* sideTable(uniquePrefix())
        const write = Job.make("write", {
          input: Counter,
          output: Counter,
          transactional: true,
          execute: () => Effect.andThen(side.insert, Effect.fail(new Boom({ job: "write" })))
        })
        const deploy = Action.make("deploy", [write])
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.deepStrictEqual(yield* side.rows(error.deploymentId), [])
      }).pipe(withActions(PgLive)), { timeout: 60_000 })

    const stolenLease = (transactional: boolean) =>
      Effect.gen(function*() {
        const prefix = uniquePrefix()
        const result = yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          const sql = yield* SqlClient.SqlClient
          const side = yield* sideTable(prefix)
          const wrote = yield* Deferred.make<void>()
          const gate = yield* Deferred.make<void>()
          const write = Job.make("write", {
            input: Counter,
            output: Counter,
            transactional,
            execute: (value) =>
              Effect.gen(function*() {
                yield* side.insert
                yield* Deferred.succeed(wrote, undefined)
                yield* Deferred.await(gate)
                return value
              })
          })
          const deploy = Action.make("deploy", [write])
          yield* actions.register(deploy)
          const id = yield* actions.start(deploy, { n: 0 })
          yield* Deferred.await(wrote)
          // Another process takes the deployment over while the job runs.
          yield* sql`UPDATE ${sql(`${prefix}deployments`)} SET lease_epoch = lease_epoch + 1, owner = 'thief' WHERE id = ${id}::uuid`
          yield* Deferred.succeed(gate, undefined)
          const store = yield* DeploymentStore.DeploymentStore
          // Wait until the first owner's checkpoint was refused (the deployment stays with the thief, running).
          yield* Effect.sleep("300 millis")
          const stored = Option.getOrThrow(yield* store.get(id))
          return { rows: yield* side.rows(id), stored }
        }).pipe(withActions(PgLive, prefix))
        assert.strictEqual(result.stored.deployment.status, "running")
        assert.strictEqual(result.stored.deployment.owner, "thief")
        assert.strictEqual(result.stored.jobs[0]!.status, "running", "the fenced checkpoint wrote nothing")
        return result.rows
      })

    it.live("happen exactly once: a job whose checkpoint is refused (lease lost) leaves no write", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* stolenLease(true), [])
        // The same job without `transactional` has written its row: the next owner will write it again.
        assert.deepStrictEqual(yield* stolenLease(false), ["write"])
      }), { timeout: 60_000 })
  })

  describe("faults", () => {
    it.live("continues after its database connections are killed in the middle of a run", () =>
      Effect.gen(function*() {
        const applicationName = `ea-kill-${crypto.randomUUID().slice(0, 8)}`
        const client = PgClient.layer({ url: Redacted.make(databaseUrl), applicationName, connectTimeout: "5 seconds" }).pipe(Layer.orDie)
        const admin = yield* Layer.build(PgLive)
        const log = makeLog()
        const reached = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const pause = Job.make("pause", {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.andThen(Deferred.succeed(reached, undefined), Effect.as(Deferred.await(gate), value))
        })
        const deploy = Action.make("deploy", [step("a", log), pause, step("c", log)])
        const output = yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          yield* actions.register(deploy)
          const id = yield* actions.start(deploy, { n: 0 })
          yield* Deferred.await(reached)
          const killed = yield* Effect.provideContext(
            Effect.flatMap(SqlClient.SqlClient, (sql) =>
              sql<{ killed: boolean }>`SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
                WHERE application_name = ${applicationName}`),
            admin
          )
          assert.isAbove(killed.length, 0, "the run's connections were found and terminated")
          yield* Deferred.succeed(gate, undefined)
          return yield* actions.awaitById(id)
        }).pipe(withActions(client))
        assert.deepStrictEqual(output.output, { n: 2 })
        assert.deepStrictEqual(log.events, ["run a 0", "run c 1"])
      }), { timeout: 60_000 })

    it.live("fails quickly with PersistenceError (connection) when the database cannot be reached", () =>
      Effect.gen(function*() {
        const unreachable = PgClient.layer({ url: Redacted.make("postgres://postgres@127.0.0.1:1/test"), connectTimeout: "2 seconds" })
        const store = SqlDeploymentStore.layer().pipe(Layer.provide(unreachable))
        const started = yield* Clock.currentTimeMillis
        // Whichever fails first, building the runtime or executing, must fail with a connection PersistenceError.
        const failure = yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          const deploy = Action.make("deploy", [step("a", makeLog())])
          yield* actions.register(deploy)
          return yield* actions.execute(deploy, { n: 0 })
        }).pipe(Effect.provide(Actions.layer({ recovery: { enabled: false } }).pipe(Layer.provide(store))), Effect.flip)
        const elapsed = (yield* Clock.currentTimeMillis) - started
        assert.deepInclude(failure, { _tag: "PersistenceError", reason: "connection" })
        assert.isBelow(elapsed, 15_000)
      }), { timeout: 60_000 })

    it.live("reports a stored output that no longer decodes, naming deployment and job, and keeps the row", () =>
      Effect.gen(function*() {
        const prefix = uniquePrefix()
        yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          const sql = yield* SqlClient.SqlClient
          const log = makeLog()
          const deploy = Action.make("deploy", [step("a", log), step("b", log)])
          yield* actions.register(deploy)
          const { deploymentId } = yield* actions.execute(deploy, { n: 0 })
          const deployments = sql(`${prefix}deployments`)
          yield* sql`UPDATE ${deployments} SET output = '{"n": "two"}'::jsonb WHERE id = ${deploymentId}::uuid`
          const error = yield* Effect.flip(actions.await(deploy, deploymentId))
          assert.strictEqual(error._tag, "StoredDataCorrupt")
          if (error._tag === "StoredDataCorrupt") {
            assert.strictEqual(error.deploymentId, deploymentId)
            assert.strictEqual(error.job, "b")
            assert.strictEqual(error.field, "output")
          }
          const [row] = yield* sql<{ output: string }>`SELECT output::text AS output FROM ${deployments} WHERE id = ${deploymentId}::uuid`
          assert.strictEqual(row?.output, "{\"n\": \"two\"}")
        }).pipe(withActions(PgLive, prefix))
      }), { timeout: 60_000 })

    it.live("stores job data with quotes and SQL metacharacters in keys, and a 1 MB value, verbatim", () =>
      Effect.gen(function*() {
        const key = `it's "x"; DROP TABLE y; -- ${"\u00e9"}`
        const big = "y".repeat(1024 * 1024)
        const read: Array<unknown> = []
        const data = Job.make("data", {
          input: Counter,
          output: Counter,
          execute: (value) =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              yield* context.setData(key, Schema.String, big)
              read.push(Option.getOrUndefined(yield* context.getData(key, Schema.String))?.length)
              return value
            })
        })
        yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          const deploy = Action.make(key, [data])
          yield* actions.register(deploy, { application: key })
          const { deploymentId } = yield* actions.execute(deploy, { n: 0 }, { key })
          const deployment = yield* actions.get(deploymentId)
          assert.strictEqual(deployment.application, key)
          assert.strictEqual(deployment.action, key)
          assert.deepStrictEqual(deployment.key, Option.some(key))
        }).pipe(withActions(PgLive))
        assert.deepStrictEqual(read, [big.length])
      }), { timeout: 60_000 })
  })
})
