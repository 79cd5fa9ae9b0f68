/**
 * The SQL store's connections (issue 7, class 4): the stop listener never takes a connection from the pool, and a
 * statement never waits forever, whatever another session holds.
 */
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it, layer } from "@effect/vitest"
import { Clock, Context, Deferred, Effect, Exit, Fiber, Layer, Option, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { makeSnapshot } from "effect-actions/testing"
import type { DeploymentStoreShape, Snapshot } from "../src/DeploymentStore.ts"
import { databaseUrl, freshStore, PgLive } from "./support/postgres.ts"

const T0 = 1_700_000_000_000
const createOptions = { leaseTtlMillis: 30_000 }
const fenceOf = (snapshot: Snapshot) => ({ deploymentId: snapshot.deployment.id, owner: "owner-a", epoch: 1 })

/** A second client, for a session that holds locks and forgets to commit. */
const otherSession = Effect.map(
  Layer.build(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 1 }).pipe(Layer.orDie)),
  (context) => Context.get(context, SqlClient.SqlClient)
)

/** Runs `statement` in a transaction of `sql` that is never committed; returns once the statement has run. */
const forgottenTransaction = (sql: SqlClient.SqlClient, statement: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    const holding = yield* Deferred.make<void>()
    yield* sql.withTransaction(Effect.andThen(statement, Effect.andThen(Deferred.succeed(holding, undefined), Effect.never))).pipe(
      Effect.ignore,
      Effect.forkScoped
    )
    yield* Deferred.await(holding)
  })

const elapsedOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const exit = yield* Effect.exit(effect)
    return { exit, millis: (yield* Clock.currentTimeMillis) - start }
  })

/** Asserts that `effect` failed with a transient `PersistenceError` of reason `timeout`. */
const assertTimedOut = (exit: Exit.Exit<unknown, unknown>, what: string) => {
  assert.isTrue(Exit.isFailure(exit), `${what} failed`)
  const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
  assert.strictEqual((error as { _tag?: string } | undefined)?._tag, "PersistenceError", what)
  assert.strictEqual((error as { reason?: string }).reason, "timeout", what)
  assert.isTrue((error as { isTransient?: boolean }).isTransient, what)
}

/** Waits, a bounded number of times, for a stop request to reach a listener, asking again each time. */
const stopReachesListener = (store: DeploymentStoreShape, snapshot: Snapshot) =>
  Effect.gen(function*() {
    const received = yield* store.stopRequests!.pipe(
      Stream.filter((id) => id === snapshot.deployment.id),
      Stream.runHead,
      Effect.forkChild
    )
    for (let attempt = 0; attempt < 50; attempt++) {
      // every statement gets its answer: none waits for the connection the listener holds
      yield* store.checkpoint({ fence: fenceOf(snapshot), at: T0 + attempt, deployment: {}, jobs: [], errors: [] }).pipe(
        Effect.timeout("5 seconds")
      )
      assert.strictEqual((yield* store.requestStop(snapshot.deployment.id, T0).pipe(Effect.timeout("5 seconds")))._tag, "Requested")
      const got = yield* Fiber.join(received).pipe(Effect.timeout("200 millis"), Effect.option)
      if (Option.isSome(got)) return got.value
    }
    return Option.none()
  })

describe("SqlDeploymentStore connections (class 4)", () => {
  const clients = [
    ["a pool of one connection", PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 1 })],
    ["a single-connection client", PgClient.layerFrom(PgClient.makeClient({ url: Redacted.make(databaseUrl) }))]
  ] as const
  for (const [name, client] of clients) {
    it.live(`on ${name}, the stop listener has a connection of its own: checkpoints and stops go on`, () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        const snapshot = makeSnapshot()
        yield* store.create(snapshot, createOptions).pipe(Effect.timeout("5 seconds"))
        const id = yield* stopReachesListener(store, snapshot)
        assert.deepStrictEqual(id, Option.some(snapshot.deployment.id))
      }).pipe(Effect.scoped, Effect.provide(client.pipe(Layer.orDie)), Effect.timeout("30 seconds")), 40_000)
  }

  layer(PgLive, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("a checkpoint behind a row lock a forgotten transaction holds fails within lockTimeout, as a timeout", () =>
      Effect.gen(function*() {
        const { prefix, store } = yield* freshStore({ lockTimeout: "300 millis", statementTimeout: "10 seconds" })
        const snapshot = makeSnapshot()
        yield* store.create(snapshot, createOptions)
        const other = yield* otherSession
        yield* forgottenTransaction(
          other,
          other`SELECT id FROM ${other(`${prefix}deployments`)} WHERE id = ${snapshot.deployment.id}::uuid FOR UPDATE`
        )
        const writes: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]> = [
          ["checkpoint", store.checkpoint({ fence: fenceOf(snapshot), at: T0 + 1, deployment: { currentJob: 1 }, jobs: [], errors: [] })],
          ["heartbeat", store.heartbeat({ owner: "owner-a", now: T0, leaseTtlMillis: 30_000, deploymentIds: [snapshot.deployment.id] })],
          ["appendErrors", store.appendErrors(fenceOf(snapshot), [
            { job: "job-0", phase: "execute", tag: "E", message: "m", detail: undefined, at: T0 }
          ])],
          ["setJobData", store.setJobData(fenceOf(snapshot), "job-0", "k", 1)],
          ["requestStop", store.requestStop(snapshot.deployment.id, T0 + 1)],
          ["release", store.release(fenceOf(snapshot), T0 + 1)],
          ["discardCreated", store.discardCreated(fenceOf(snapshot))]
        ]
        for (const [operation, write] of writes) {
          const { exit, millis } = yield* elapsedOf(write)
          assertTimedOut(exit, operation)
          assert.isAtLeast(millis, 250, operation)
          assert.isBelow(millis, 3_000, `${operation}: bounded by lockTimeout, not statementTimeout`)
        }
        // reads do not wait for row locks
        assert.isTrue(Option.isSome(yield* store.get(snapshot.deployment.id)))
      }))

    it.effect("a statement that gets no answer within statementTimeout is cancelled on the server and fails as a timeout", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore({ statementTimeout: "500 millis", lockTimeout: "300 millis" })
        const snapshot = makeSnapshot()
        yield* store.create(snapshot, createOptions)
        const other = yield* otherSession
        // a table lock is taken before a statement runs, so lock_timeout set inside the statement cannot bound it
        yield* forgottenTransaction(other, other`LOCK TABLE ${other(`${prefix}deployments`)} IN ACCESS EXCLUSIVE MODE`)
        const statements: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]> = [
          ["get", store.get(snapshot.deployment.id)],
          ["checkpoint", store.checkpoint({ fence: fenceOf(snapshot), at: T0 + 1, deployment: {}, jobs: [], errors: [] })]
        ]
        for (const [operation, statement] of statements) {
          const { exit, millis } = yield* elapsedOf(statement)
          assertTimedOut(exit, operation)
          assert.isAtLeast(millis, 450, operation)
          assert.isBelow(millis, 3_000, operation)
        }
        // nothing of the store still waits on the server: the driver cancelled the statements
        const [waiting] = yield* sql<{ count: number }>`SELECT count(*)::int AS count FROM pg_locks
          WHERE NOT granted AND relation = to_regclass(${`"${prefix}deployments"`})`
        assert.strictEqual(waiting!.count, 0)
      }))
  })
})
