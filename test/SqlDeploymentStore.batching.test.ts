/**
 * The SQL store writes the checkpoints of concurrent deployments together (group commit): fewer statements, the
 * same rows as written one by one, each checkpoint fenced by its own lease and told its own `LeaseLost`, and one
 * checkpoint's bad data never another's failure.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { makeSnapshot } from "effect-actions/testing"
import { type Checkpoint, DeploymentStore, type DeploymentStoreShape, type Snapshot } from "../src/DeploymentStore.ts"
import * as SqlDeploymentStore from "../src/SqlDeploymentStore.ts"
import { countingClient, freshStore, PgLive, type RoundTrips } from "./support/postgres.ts"

const T0 = 1_700_000_000_000
const createOptions = { leaseTtlMillis: 3_600_000 }
const fenceOf = (snapshot: Snapshot) => ({ deploymentId: snapshot.deployment.id, owner: "owner-a", epoch: 1 })

/**
 * A checkpoint of each kind the runtime writes, the `i`-th deployment's kind by `i % 8`: job patches for one place or
 * two (replaced in place), three (the records rebuilt), a place the records do not have, or none.
 */
const checkpointOf = (snapshot: Snapshot, i: number): Checkpoint => {
  const fence = fenceOf(snapshot)
  const at = T0 + 1000 + i
  switch (i % 8) {
    case 0: // a job succeeded, the next starts
      return {
        fence,
        at,
        deployment: { currentJob: 1, state: { count: i }, resumes: 0 },
        jobs: [
          { index: 0, status: "succeeded", output: { machine: `m-${i}` }, finishedAt: at },
          { index: 1, status: "running", input: { machine: `m-${i}` }, attempts: 1, startedAt: at }
        ],
        errors: []
      }
    case 1: // a job failed: rolling back, with two error entries in their order
      return {
        fence,
        at,
        deployment: {
          status: "rolling_back",
          failure: { job: "job-0", jobIndex: 0, phase: "execute", tag: "Boom", message: `failed ${i}` }
        },
        jobs: [{ index: 0, status: "failed", finishedAt: at }],
        errors: [
          { job: "job-0", phase: "execute", tag: "Boom", message: `first ${i}`, detail: { i }, at },
          { job: "job-0", phase: "execute", tag: "Boom", message: `second ${i}`, detail: null, at: at + 1 }
        ]
      }
    case 2: // the last rollback step: rolled back, lease released
      return {
        fence,
        at,
        deployment: { status: "rolled_back", releaseLease: true },
        jobs: [{ index: 0, status: "rolled_back", rollbackStartedAt: at - 5, rollbackFinishedAt: at }],
        errors: []
      }
    case 3: // an operator's retry: the failure and the job's finish cleared, its first attempt kept
      return {
        fence,
        at,
        deployment: { status: "running", failure: null, resumes: 0 },
        jobs: [{
          index: 0,
          status: "running",
          attempts: 2,
          startedAt: at,
          finishedAt: null,
          earlierAttempts: [{ attempt: 1, startedAt: T0, finishedAt: T0 + 3 }]
        }],
        errors: []
      }
    case 5: // three records at once (an operator's rollback): rolled back, one without a rollback of its own
      return {
        fence,
        at,
        deployment: { status: "rolled_back", releaseLease: true },
        jobs: [
          { index: 2, status: "failed", finishedAt: at },
          { index: 1, status: "rolled_back", rollbackStartedAt: at, rollbackFinishedAt: at + 1 },
          { index: 0, status: "rolled_back", rollbackStartedAt: at + 1, rollbackFinishedAt: at + 2 }
        ],
        errors: []
      }
    case 6: // a patch for a place the records do not have, beside one they have: the former changes nothing
      return {
        fence,
        at,
        deployment: { currentJob: 1 },
        jobs: [{ index: 1, status: "running", attempts: 1, startedAt: at }, { index: 7, status: "failed" }],
        errors: []
      }
    case 7: // no job patch: the records stay as they are
      return { fence, at, deployment: { state: { only: i } }, jobs: [], errors: [] }
    default: // the deployment succeeded, with a JSON null as its output and state
      return {
        fence,
        at,
        deployment: { status: "succeeded", currentJob: 2, output: null, state: null, releaseLease: true },
        jobs: [{ index: 0, status: "succeeded", output: [1, "two", { three: 3 }], finishedAt: at }],
        errors: []
      }
  }
}

/** `count` deployments created in `store`, with the same ids in every store given the same `ids`. */
const createAll = (store: DeploymentStoreShape, ids: ReadonlyArray<string>) =>
  Effect.forEach(ids, (id) => {
    const made = makeSnapshot({ at: T0, jobs: 3, owner: "owner-a", application: "batching" })
    const snapshot = { ...made, deployment: { ...made.deployment, id } }
    return Effect.as(store.create(snapshot, createOptions), snapshot)
  }, { concurrency: 8 })

/** What a deployment is after its checkpoints, without what differs between two stores (nothing should). */
const readBack = (store: DeploymentStoreShape, id: string) =>
  Effect.gen(function*() {
    const { deployment, jobs } = Option.getOrThrow(yield* store.get(id))
    // the lease's expiry is the server's clock at the create; the rest must be equal
    const snapshot = { deployment: { ...deployment, leaseExpiresAt: deployment.leaseExpiresAt !== undefined }, jobs }
    // sequences are per store: the order of the entries is what must match
    const errors = (yield* store.errors(id)).map(({ sequence: _sequence, ...rest }) => rest)
    return { snapshot, errors }
  })

const ids = (count: number) => Array.from({ length: count }, () => crypto.randomUUID())

describe("SqlDeploymentStore checkpoint batching", () => {
  const roundTrips: RoundTrips = { statuses: [] }
  layer(PgLive, { timeout: "120 seconds" })((it) => {
    it.effect("writes the checkpoints of 40 concurrent deployments in fewer statements, with the rows one-by-one writes give", () =>
      Effect.gen(function*() {
        const together = yield* freshStoreOn(countingClient(roundTrips, 2), {})
        const alone = (yield* freshStore({ checkpointBatch: 1 })).store
        const deploymentIds = ids(40)
        const snapshotsTogether = yield* createAll(together, deploymentIds)
        const snapshotsAlone = yield* createAll(alone, deploymentIds)

        for (const [i, snapshot] of snapshotsAlone.entries()) yield* alone.checkpoint(checkpointOf(snapshot, i))
        roundTrips.statuses.length = 0
        const results = yield* Effect.forEach(
          snapshotsTogether,
          (snapshot, i) => together.checkpoint(checkpointOf(snapshot, i)),
          { concurrency: "unbounded" }
        )
        const statements = roundTrips.statuses.length
        assert.strictEqual(results.length, 40)
        assert.isTrue(results.every((result) => result.stopRequested === false))
        assert.isBelow(statements, 40, `40 checkpoints took ${statements} statements`)

        for (const id of deploymentIds) {
          assert.deepStrictEqual(yield* readBack(together, id), yield* readBack(alone, id), `deployment ${id}`)
        }
      }))

    it.effect("records a pause's stop request in a batch only where the stop flag was set", () =>
      Effect.gen(function*() {
        const store = yield* freshStoreOn(countingClient(roundTrips, 2), {})
        const snapshots = yield* createAll(store, ids(6))
        const flagged = new Set(snapshots.filter((_, i) => i % 2 === 0).map((snapshot) => snapshot.deployment.id))
        for (const id of flagged) yield* store.requestStop(id, T0 + 500)
        const requestOf = (i: number) => ({ id: crypto.randomUUID(), operation: "stop" as const, by: "owner-a", at: T0 + 1000 + i })
        const requests = snapshots.map((_, i) => requestOf(i))
        roundTrips.statuses.length = 0
        const results = yield* Effect.forEach(snapshots, (snapshot, i) =>
          store.checkpoint({
            fence: fenceOf(snapshot),
            at: T0 + 1000 + i,
            deployment: { status: "paused", currentJob: 0, releaseLease: true, stopRequest: requests[i]! },
            jobs: [{ index: 0, status: "failed", finishedAt: T0 + 1000 + i }],
            errors: []
          }), { concurrency: "unbounded" })
        assert.isBelow(roundTrips.statuses.length, 6, "written together")
        for (const [i, snapshot] of snapshots.entries()) {
          const { deployment } = Option.getOrThrow(yield* store.get(snapshot.deployment.id))
          const stopped = flagged.has(snapshot.deployment.id)
          assert.strictEqual(results[i]!.stopRequested, stopped)
          assert.strictEqual(deployment.status, "paused")
          assert.deepStrictEqual(deployment.request, stopped ? requests[i] : undefined, `deployment ${i}`)
        }
      }))

    it.effect("tells each fenced-out checkpoint of a batch its own LeaseLost, and applies the others", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        const snapshots = yield* createAll(store, ids(12))
        const exits = yield* Effect.forEach(snapshots, (snapshot, i) => {
          const checkpoint = checkpointOf(snapshot, 0)
          // every third checkpoint carries a stale epoch, every fourth another owner
          const fence = i % 3 === 1
            ? { ...checkpoint.fence, epoch: 0 }
            : i % 4 === 2
            ? { ...checkpoint.fence, owner: "owner-b" }
            : checkpoint.fence
          return Effect.exit(store.checkpoint({ ...checkpoint, fence }))
        }, { concurrency: "unbounded" })
        for (const [i, exit] of exits.entries()) {
          const fencedOut = i % 3 === 1 || i % 4 === 2
          const snapshot = Option.getOrThrow(yield* store.get(snapshots[i]!.deployment.id))
          if (fencedOut) {
            const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
            assert.strictEqual(error?._tag, "LeaseLost", `checkpoint ${i}`)
            assert.strictEqual(error?._tag === "LeaseLost" ? error.deploymentId : undefined, snapshots[i]!.deployment.id)
            assert.strictEqual(snapshot.deployment.currentJob, 0, `checkpoint ${i} changed nothing`)
            assert.strictEqual(snapshot.jobs[0]!.status, "running")
          } else {
            assert.isTrue(Exit.isSuccess(exit), `checkpoint ${i}`)
            assert.strictEqual(snapshot.deployment.currentJob, 1)
            assert.strictEqual(snapshot.jobs[0]!.status, "succeeded")
          }
        }
      }))

    it.effect("writes two checkpoints of one deployment, its id in two letter cases, one after the other: both apply", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        const [snapshot] = yield* createAll(store, ids(1))
        const id = snapshot!.deployment.id
        const first = checkpointOf(snapshot!, 0) // job 0 succeeded, job 1 started
        // It changes what the first does not, so that both orders of writing them give the same row.
        const second: Checkpoint = {
          fence: { ...first.fence, deploymentId: id.toUpperCase() },
          at: first.at + 1,
          deployment: {},
          jobs: [{ index: 2, status: "failed", finishedAt: first.at + 1 }],
          errors: []
        }
        const exits = yield* Effect.forEach([first, second], (checkpoint) => Effect.exit(store.checkpoint(checkpoint)), {
          concurrency: "unbounded"
        })
        assert.isTrue(exits.every(Exit.isSuccess), "neither is told LeaseLost")
        const stored = Option.getOrThrow(yield* store.get(id))
        assert.strictEqual(stored.deployment.currentJob, 1)
        assert.deepStrictEqual(stored.jobs.map((job) => job.status), ["succeeded", "running", "failed"])
      }))

    it.effect("fails only the checkpoint whose value PostgreSQL refuses (\\u0000, a lone surrogate); the others of its batch apply", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        const snapshots = yield* createAll(store, ids(10))
        const badState = (i: number) => i === 3 ? { text: "a\u0000b" } : i === 7 ? { text: "\ud800" } : { count: i }
        const exits = yield* Effect.forEach(snapshots, (snapshot, i) => {
          const checkpoint = checkpointOf(snapshot, 0)
          return Effect.exit(store.checkpoint({ ...checkpoint, deployment: { ...checkpoint.deployment, state: badState(i) } }))
        }, { concurrency: "unbounded" })
        for (const [i, exit] of exits.entries()) {
          const snapshot = Option.getOrThrow(yield* store.get(snapshots[i]!.deployment.id))
          if (i === 3 || i === 7) {
            const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
            assert.strictEqual(error?._tag, "PersistenceError", `checkpoint ${i}`)
            assert.strictEqual(error?._tag === "PersistenceError" ? error.reason : undefined, "invalid")
            assert.deepStrictEqual(snapshot.deployment.state, { count: 0 }, `checkpoint ${i} changed nothing`)
          } else {
            assert.isTrue(Exit.isSuccess(exit), `checkpoint ${i}: ${String(exit)}`)
            assert.deepStrictEqual(snapshot.deployment.state, { count: i })
          }
        }
      }))

    it.effect("writes a transactional job's checkpoint on the transaction's connection, alone, however many are in flight", () =>
      Effect.gen(function*() {
        const { prefix, store } = yield* freshStore()
        const sql = yield* SqlClient.SqlClient
        const snapshots = yield* createAll(store, ids(6))
        const inside = snapshots[0]!
        // kind 0 (`i * 8 % 8`): a job succeeded, the next started
        const others = Effect.forEach(
          snapshots.slice(1),
          (snapshot, i) => store.checkpoint(checkpointOf(snapshot, i * 8)),
          { concurrency: "unbounded" }
        )
        // the transaction fails after its checkpoint, while the others are written outside it
        const [exit] = yield* Effect.all([
          Effect.exit(store.transaction!(
            Effect.andThen(store.checkpoint(checkpointOf(inside, 0)), Effect.fail("abort" as const))
          )),
          others
        ], { concurrency: "unbounded" })
        assert.isTrue(Exit.isFailure(exit))
        const rows = yield* sql<{ current_job: number }>`SELECT current_job FROM ${sql(`${prefix}deployments`)}
          WHERE id = ${inside.deployment.id}::uuid`
        assert.strictEqual(rows[0]?.current_job, 0, "rolled back with the transaction")
        for (const snapshot of snapshots.slice(1)) {
          const read = Option.getOrThrow(yield* store.get(snapshot.deployment.id))
          assert.strictEqual(read.deployment.currentJob, 1, "the others were outside the transaction and committed")
        }
      }))
  })

  it.effect("refuses a checkpointBatch or checkpointWriters that is not a whole number in range", () =>
    Effect.gen(function*() {
      const bad: ReadonlyArray<[string, unknown]> = [
        ["checkpointBatch", 0],
        ["checkpointBatch", -1],
        ["checkpointBatch", 1.5],
        ["checkpointBatch", Number.NaN],
        ["checkpointBatch", Number.POSITIVE_INFINITY],
        ["checkpointBatch", 1001],
        ["checkpointBatch", "64"],
        ["checkpointWriters", 0],
        ["checkpointWriters", 101],
        ["checkpointWriters", Number.NaN]
      ]
      for (const [option, value] of bad) {
        const exit = yield* Effect.exit(SqlDeploymentStore.migrations({ [option]: value }))
        const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
        assert.strictEqual(error?._tag, "InvalidOption", `${option} = ${String(value)}`)
        assert.strictEqual(error?.option, option)
        assert.match(error?.expected ?? "", /whole number from 1 to/)
      }
      for (const good of [{ checkpointBatch: 1 }, { checkpointBatch: 1000, checkpointWriters: 100 }]) {
        assert.isTrue(Exit.isSuccess(yield* Effect.exit(SqlDeploymentStore.migrations(good))))
      }
    }))
})

// ---------------------------------------------------------------------------

/** A store on fresh tables (migrated through the shared client), used through its own `client`. */
const freshStoreOn = (
  client: Layer.Layer<SqlClient.SqlClient>,
  options: Omit<SqlDeploymentStore.Options, "prefix">
) =>
  Effect.gen(function*() {
    const { prefix } = yield* freshStore(options)
    const context = yield* Layer.build(
      SqlDeploymentStore.layer({ ...options, prefix }).pipe(Layer.orDie, Layer.provide(client))
    )
    return Context.get(context, DeploymentStore)
  })
