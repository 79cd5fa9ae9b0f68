import { PgClient } from "@effect/sql-pg"
import { assert, describe, it, layer } from "@effect/vitest"
import { Clock, Effect, Layer, Option, Redacted, String } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { DeploymentStore } from "effect-actions"
import { DeploymentStoreSuite, makeSnapshot } from "effect-actions/testing"
import { SqlDeploymentStore } from "effect-actions"
import { maxKeyBytes, maxNameBytes } from "../src/internal/limits.ts"
import {
  countingClient,
  databaseUrl,
  dropTables,
  freshStore,
  PgLive,
  type RoundTrips,
  storeLayer,
  uniquePrefix
} from "./support/postgres.ts"

DeploymentStoreSuite("postgresql", storeLayer(uniquePrefix()).pipe(Layer.provide(PgLive)), {
  transactions: true,
  stopNotifications: true,
  ownClock: true
})

const T0 = 1_700_000_000_000
const createOptions = { leaseTtlMillis: 30_000 }


const tableNames = (prefix: string) =>
  ["deployments", "job_data", "errors", "history", "migrations"].map((table) => `${prefix}${table}`)

describe("SqlDeploymentStore (postgresql)", () => {
  layer(PgLive, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("creates its tables with the configured prefix", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix } = yield* freshStore()
        for (const table of tableNames(prefix)) {
          const [row] = yield* sql<{ found: string | null }>`SELECT to_regclass(${`"${table}"`})::text AS found`
          assert.strictEqual(row?.found, table, `table ${table}`)
        }
      }))

    it.effect("applies each migration once: a second run applies nothing", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const prefix = uniquePrefix()
        yield* Effect.addFinalizer(() => dropTables(prefix))
        const migrate = Migrator.make({})({
          loader: yield* SqlDeploymentStore.migrations({ prefix }),
          table: `${prefix}migrations`
        })
        assert.deepStrictEqual(yield* migrate, [
          [1, "create_tables"],
          [2, "resumes_parked_and_list_indexes"],
          [3, "operator_operations"],
          [4, "jobs_in_deployments"]
        ])
        assert.deepStrictEqual(yield* migrate, [])
        // the layer records into the same table, so it applies nothing either (a rerun would fail: tables exist)
        yield* Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations({ prefix })))
        yield* Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations({ prefix })))
        const rows = yield* sql<{ migration_id: number }>`SELECT migration_id FROM ${sql(`${prefix}migrations`)}`
        assert.deepStrictEqual(rows.map((row) => row.migration_id).sort(), [1, 2, 3, 4])
      }))


    it.effect("keeps epoch milliseconds exact, before 1970 and far in the future", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        for (const at of [0, -1, 1, T0 + 123, -62_135_596_800_001, -210_866_803_200_000, 8_640_000_000_000_000]) {
          const snapshot = makeSnapshot({ at })
          yield* store.create(snapshot, { leaseTtlMillis: 30_000 })
          yield* store.checkpoint({
            fence: { deploymentId: snapshot.deployment.id, owner: "owner-a", epoch: 1 },
            at: at + 1,
            deployment: {},
            jobs: [{ index: 0, status: "succeeded", finishedAt: at + 2 }],
            errors: [{ job: "job-0", phase: "execute", tag: "E", message: "m", detail: undefined, at: at + 3 }]
          })
          const read = Option.getOrThrow(yield* store.get(snapshot.deployment.id))
          assert.strictEqual(read.deployment.createdAt, at)
          assert.strictEqual(read.deployment.updatedAt, at + 1)
          assert.strictEqual(read.jobs[0]!.startedAt, at)
          assert.strictEqual(read.jobs[0]!.finishedAt, at + 2)
          assert.strictEqual((yield* store.errors(snapshot.deployment.id))[0]!.at, at + 3)
        }
      }))

    it.effect("renews 10,000 leases of an owner the planner's statistics do not know yet (a fresh successor)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const deployments = sql(`${prefix}deployments`)
        yield* sql`INSERT INTO ${deployments} (id, application, action, fingerprint, status, current_job, owner,
            lease_expires_at, lease_epoch, stop_requested, created_at, updated_at, jobs)
          SELECT gen_random_uuid(), 'app', 'provision', '[]', 'running', 0, 'crashed', now(), 1, false, now(), now(), '[]'
          FROM generate_series(1, 10000)`
        yield* sql`ANALYZE ${deployments}`
        // A successor takes them all over: the statistics know only the crashed owner.
        const owner = `successor-${crypto.randomUUID()}`
        yield* sql`UPDATE ${deployments} SET owner = ${owner}, lease_epoch = 2`
        const ids = (yield* sql<{ id: string }>`SELECT id::text AS id FROM ${deployments}`).map((row) => row.id)
        // With the id list joined, this takes a tenth of a second; planned as a semi-join over the list (the form
        // this replaced), it took over 30 s here, beyond this test's time budget.
        const held = yield* store.heartbeat({ owner, now: T0, leaseTtlMillis: 30_000, deploymentIds: ids })
        assert.strictEqual(held.length, 10_000)
        assert.isTrue(held.every((lease) => lease.epoch === 2))
      }), { timeout: 20_000 })

    it.effect("claims and reports the deployments of definitions whose names hold quotes, backslashes, commas and braces", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        // what an array literal would misread unless each element is quoted and escaped
        const names = ["a\"b", "back\\slash", "comma,separated", "{braced}", "NULL", "it's", "spaced name", "🚀"]
        const snapshots = names.map((name, i) => makeSnapshot({ application: name, action: names[(i + 1) % names.length]! }))
        for (const snapshot of snapshots) yield* store.create(snapshot, { leaseTtlMillis: 0 })
        const runnable = snapshots.map(({ deployment }) => ({
          application: deployment.application,
          action: deployment.action,
          fingerprint: deployment.fingerprint
        }))
        const ids = snapshots.map(({ deployment }) => deployment.id).sort()
        const mismatched = yield* store.findMismatched({
          now: T0,
          limit: 100,
          runnable: runnable.map((r) => ({ ...r, fingerprint: "[\"v2\"]" }))
        })
        assert.deepStrictEqual(mismatched.map((row) => row.id).sort(), ids, "every one reported as of another version")
        const claimed = yield* store.claim({ owner: "claimer", now: T0, leaseTtlMillis: 30_000, limit: 100, runnable })
        assert.deepStrictEqual(claimed.map(({ deployment }) => deployment.id).sort(), ids, "every one claimed")
        // the pairs are exact: an application with another's action claims nothing
        const crossed = runnable.map((r, i) => ({ ...r, action: runnable[(i + 2) % runnable.length]!.action }))
        yield* Effect.forEach(claimed, ({ deployment }) =>
          store.release({ deploymentId: deployment.id, owner: "claimer", epoch: deployment.leaseEpoch }, T0))
        assert.deepStrictEqual(
          yield* store.claim({ owner: "other", now: T0, leaseTtlMillis: 30_000, limit: 100, runnable: crossed }),
          []
        )
      }))

    it.effect("finds nothing, and fails nothing, for a definition whose name PostgreSQL cannot store; the others still match", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        const snapshot = makeSnapshot({ application: "plain" })
        yield* store.create(snapshot, { leaseTtlMillis: 0 })
        const { action, application, fingerprint } = snapshot.deployment
        const unstorable = ["nul\u0000", "lone\ud800"].flatMap((text) => [
          { application: text, action, fingerprint },
          { application, action: text, fingerprint },
          { application, action, fingerprint: text }
        ])
        const request = { owner: "claimer", now: T0, leaseTtlMillis: 30_000, limit: 10 }
        assert.deepStrictEqual(yield* store.claim({ ...request, runnable: unstorable }), [])
        assert.deepStrictEqual(yield* store.findMismatched({ now: T0, limit: 10, runnable: unstorable }), [])
        assert.deepStrictEqual(yield* store.findRequests({ limit: 10, runnable: unstorable }), [])
        const claimed = yield* store.claim({ ...request, runnable: [...unstorable, { application, action, fingerprint }] })
        assert.deepStrictEqual(claimed.map(({ deployment }) => deployment.id), [snapshot.deployment.id])
      }))

    it.effect("keeps the order of many errors appended at once", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        const snapshot = makeSnapshot()
        yield* store.create(snapshot, createOptions)
        const messages = Array.from({ length: 200 }, (_, i) => `error ${i}`)
        yield* store.appendErrors(
          { deploymentId: snapshot.deployment.id, owner: "owner-a", epoch: 1 },
          messages.map((message) => ({ job: "job-0", phase: "execute", tag: "E", message, detail: undefined, at: T0 }))
        )
        const read = yield* store.errors(snapshot.deployment.id)
        assert.deepStrictEqual(read.map((entry) => entry.message), messages)
      }))

    it.effect("maps data PostgreSQL cannot hold and ids that are no UUIDs to invalid, never leaking SqlError", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        const snapshot = makeSnapshot()
        yield* store.create(snapshot, createOptions)
        const nul = yield* Effect.flip(store.create(makeSnapshot({ input: { s: "a\u0000b" } }), createOptions))
        assert.strictEqual(nul._tag, "PersistenceError")
        assert.strictEqual(nul.reason, "invalid")
        assert.strictEqual(nul.operation, "create")
        const surrogate = yield* Effect.flip(store.create(makeSnapshot({ key: "\u{1F680}".slice(0, 1) }), createOptions))
        assert.strictEqual(surrogate.reason, "invalid")
        const notUuid = yield* Effect.flip(
          store.create({ ...snapshot, deployment: { ...snapshot.deployment, id: "deployment-1" } }, createOptions)
        )
        assert.strictEqual(notUuid.reason, "invalid")
        assert.isTrue(Option.isNone(yield* store.get("deployment-1")))
      }))

    it.effect("keeps JSON null apart from absent in checkpoints, and leaves absent patch fields as they are", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        const snapshot = makeSnapshot({ jobs: 2 })
        yield* store.create(snapshot, createOptions)
        const fence = { deploymentId: snapshot.deployment.id, owner: "owner-a", epoch: 1 }
        const leaseExpiresAt = Option.getOrThrow(yield* store.get(snapshot.deployment.id)).deployment.leaseExpiresAt
        yield* store.checkpoint({
          fence,
          at: T0 + 1,
          deployment: { state: null, output: null },
          jobs: [{ index: 0, status: "succeeded", output: null }, { index: 1, status: "running", input: null }],
          errors: [{ job: undefined, phase: "execute", tag: "E", message: "m", detail: null, at: T0 }]
        })
        yield* store.checkpoint({ fence, at: T0 + 2, deployment: {}, jobs: [{ index: 1, status: "failed" }], errors: [] })
        const read = Option.getOrThrow(yield* store.get(snapshot.deployment.id))
        assert.strictEqual(read.deployment.state, null)
        assert.strictEqual(read.deployment.output, null)
        assert.strictEqual(read.deployment.failure, undefined)
        assert.strictEqual(read.deployment.owner, "owner-a")
        assert.strictEqual(read.deployment.leaseExpiresAt, leaseExpiresAt)
        assert.strictEqual(read.deployment.updatedAt, T0 + 2)
        assert.deepStrictEqual(read.jobs.map((job) => [job.status, job.input, job.output]), [
          ["succeeded", { n: 0 }, null],
          ["failed", null, undefined]
        ])
        assert.strictEqual(read.jobs[1]!.attempts, 0)
        assert.strictEqual(read.jobs[1]!.startedAt, undefined)
        const [entry] = yield* store.errors(snapshot.deployment.id)
        assert.strictEqual(entry!.detail, null)
        assert.strictEqual(entry!.job, undefined)
      }))

    it.effect("merges job patches into the records they name: two of one job in order, none for a job it lacks", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const snapshot = makeSnapshot({ jobs: 3 })
        yield* store.create(snapshot, createOptions)
        const fence = { deploymentId: snapshot.deployment.id, owner: "owner-a", epoch: 1 }
        const patched = [
          { index: 1, status: "running" as const, input: { n: 1 }, attempts: 1, startedAt: T0 + 1 },
          // a later patch of the same job wins field by field; its absent fields leave the earlier ones
          { index: 1, status: "failed" as const, finishedAt: T0 + 2 },
          // places the records do not have: nothing changes, nothing fails (a negative one never counts from the end)
          { index: 3, status: "failed" as const },
          { index: -1, status: "failed" as const },
          { index: 0.5, status: "failed" as const }
        ]
        for (const batch of [1, 64]) {
          // each alone, then all three in the batched statement: the three are queued before the group commit's
          // writer runs, so it takes them as one batch
          const [first, patchedOne, other] = [1, 2, 3].map(() => makeSnapshot({ jobs: 3 }))
          for (const snapshot of [first!, patchedOne!, other!]) yield* store.create(snapshot, createOptions)
          const fenceOf = (s: typeof first) => ({ deploymentId: s!.deployment.id, owner: "owner-a", epoch: 1 })
          const roundTrips: RoundTrips = { statuses: [] }
          yield* Effect.gen(function*() {
            const batched = yield* SqlDeploymentStore.make({ prefix, checkpointBatch: batch, checkpointWriters: 1 })
            // the connection opened (its startup answers once too), then only the checkpoints are counted
            yield* batched.status(first!.deployment.id)
            roundTrips.statuses.length = 0
            yield* Effect.all([
              batched.checkpoint({ fence: fenceOf(first), at: T0 + 3, deployment: {}, jobs: [], errors: [] }),
              batched.checkpoint({ fence: fenceOf(patchedOne), at: T0 + 3, deployment: {}, jobs: patched, errors: [] }),
              batched.checkpoint({ fence: fenceOf(other), at: T0 + 3, deployment: {}, jobs: [], errors: [] })
            ], { concurrency: "unbounded" })
          }).pipe(Effect.provide(countingClient(roundTrips)))
          assert.strictEqual(roundTrips.statuses.length, batch === 1 ? 3 : 1, `statements at checkpointBatch ${batch}`)
          const read = Option.getOrThrow(yield* store.get(patchedOne!.deployment.id))
          assert.deepStrictEqual(read.jobs.map((job) => [job.status, job.input, job.attempts, job.startedAt, job.finishedAt]), [
            ["running", { n: 0 }, 1, T0, undefined],
            ["failed", { n: 1 }, 1, T0 + 1, T0 + 2],
            ["pending", undefined, 0, undefined, undefined]
          ], `checkpointBatch ${batch}`)
        }
        // a retry clears the finish: stored as null, read as no time
        yield* store.checkpoint({
          fence,
          at: T0 + 4,
          deployment: {},
          jobs: [{ index: 0, status: "succeeded", finishedAt: T0 + 4 }],
          errors: []
        })
        yield* store.checkpoint({ fence, at: T0 + 5, deployment: {}, jobs: [{ index: 0, status: "running", finishedAt: null }], errors: [] })
        const cleared = Option.getOrThrow(yield* store.get(snapshot.deployment.id))
        assert.strictEqual(cleared.jobs[0]!.finishedAt, undefined)
        const [stored] = yield* sql<{ finished: string | null }>`SELECT (jobs->0->'finishedAt')::text AS finished
          FROM ${sql(`${prefix}deployments`)} WHERE id = ${snapshot.deployment.id}::uuid`
        assert.strictEqual(stored!.finished, "null")
      }))

    it.effect("reads job records edited into another shape as stored: get and claim never fail on them", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const application = `app-${crypto.randomUUID()}`
        const edited = makeSnapshot({ jobs: 2, application })
        const healthy = makeSnapshot({ jobs: 2, application })
        const notAnArray = makeSnapshot({ jobs: 2, application })
        for (const snapshot of [edited, healthy, notAnArray]) yield* store.create(snapshot, { leaseTtlMillis: 1 })
        const deployments = sql(`${prefix}deployments`)
        // by hand: the second record says it is the third job's, with a status no job has; another is no array
        yield* sql`UPDATE ${deployments} SET jobs = jsonb_set(jsonb_set(jobs, '{1,index}', '2'), '{1,status}', '"bogus"')
          WHERE id = ${edited.deployment.id}::uuid`
        yield* sql`UPDATE ${deployments} SET jobs = '{"not": "records"}' WHERE id = ${notAnArray.deployment.id}::uuid`
        const read = Option.getOrThrow(yield* store.get(edited.deployment.id))
        assert.deepStrictEqual([read.jobs[1]!.index, read.jobs[1]!.status], [2, "bogus"])
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get(notAnArray.deployment.id)).jobs, [])
        // the runtime checks the records before it runs a deployment, and parks these (Actions.faults, class 5b)
        yield* Effect.sleep("5 millis") // the leases (1 ms) expire on the server's clock
        const claimed = yield* store.claim({
          owner: "successor",
          now: T0,
          leaseTtlMillis: 30_000,
          limit: 10,
          runnable: [{ application, action: "provision", fingerprint: edited.deployment.fingerprint }]
        })
        assert.deepStrictEqual(
          claimed.map((snapshot) => snapshot.deployment.id).sort(),
          [edited, healthy, notAnArray].map((snapshot) => snapshot.deployment.id).sort()
        )
      }))

    it.effect("works over a client that transforms names (camelCase results, snake_case queries)", () =>
      Effect.gen(function*() {
        const { prefix } = yield* freshStore()
        const transformed = PgClient.layer({
          url: Redacted.make(databaseUrl),
          transformQueryNames: String.camelToSnake,
          transformResultNames: String.snakeToCamel
        }).pipe(Layer.orDie)
        yield* Effect.gen(function*() {
          const store = yield* Effect.orDie(SqlDeploymentStore.make({ prefix }))
          const snapshot = makeSnapshot({ key: "k" })
          assert.strictEqual((yield* store.create(snapshot, createOptions))._tag, "Created")
          const read = Option.getOrThrow(yield* store.get(snapshot.deployment.id))
          assert.strictEqual(read.deployment.leaseEpoch, 1)
          assert.deepStrictEqual(read.jobs[0]!.input, { n: 0 })
          const page = yield* store.list({ application: snapshot.deployment.application, limit: 5 })
          assert.deepStrictEqual(page.items.map((row) => row.currentJob), [0])
        }).pipe(Effect.provide(transformed))
      }))

    it.effect("judges leases on the server's clock, whatever now the caller gives (class 2)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const deployments = sql(`${prefix}deployments`)
        /** Seconds from the server's now to a deployment's lease expiry. */
        const remaining = (id: string) =>
          Effect.map(
            sql<{ seconds: number }>`SELECT extract(epoch FROM lease_expires_at - now())::float8 AS seconds
              FROM ${deployments} WHERE id = ${id}::uuid`,
            (rows) => rows[0]!.seconds
          )
        const application = `app-${crypto.randomUUID()}`
        // the snapshots carry the runtime's lease expiry (2023): the store sets its own
        const live = makeSnapshot({ application })
        const expired = makeSnapshot({ application })
        yield* store.create(live, { leaseTtlMillis: 30_000 })
        yield* store.create(expired, { leaseTtlMillis: 0 })
        const liveLeft = yield* remaining(live.deployment.id)
        assert.isTrue(liveLeft > 20 && liveLeft <= 30, `live lease: ${liveLeft} s left`)
        const runnable = [{ application, action: "provision", fingerprint: live.deployment.fingerprint }]
        const processNow = yield* Clock.currentTimeMillis
        // a process whose clock runs ten minutes ahead takes only the lease that expired on the server
        const ahead = yield* store.claim({
          owner: "clock-ahead",
          now: processNow + 600_000,
          leaseTtlMillis: 30_000,
          limit: 10,
          runnable
        })
        assert.deepStrictEqual(ahead.map((s) => s.deployment.id), [expired.deployment.id])
        const claimedLeft = yield* remaining(expired.deployment.id)
        assert.isTrue(claimedLeft > 20 && claimedLeft <= 30, `claimed lease: ${claimedLeft} s left`)
        // nor does a mismatch report see the live lease as expired
        const mismatched = yield* store.findMismatched({
          now: processNow + 600_000,
          limit: 10,
          runnable: [{ ...runnable[0]!, fingerprint: "[\"v2\"]" }]
        })
        assert.deepStrictEqual(mismatched, [])
        // a process whose clock runs ten minutes behind renews for the server's now + ttl, and still takes over a
        // lease that expired on the server
        yield* store.heartbeat({
          owner: "clock-ahead",
          now: processNow - 600_000,
          leaseTtlMillis: 30_000,
          deploymentIds: [expired.deployment.id]
        })
        const renewedLeft = yield* remaining(expired.deployment.id)
        assert.isTrue(renewedLeft > 20 && renewedLeft <= 30, `renewed lease: ${renewedLeft} s left`)
        yield* store.release({ deploymentId: expired.deployment.id, owner: "clock-ahead", epoch: 2 }, processNow + 600_000)
        assert.isAtMost(yield* remaining(expired.deployment.id), 0)
        const behind = yield* store.claim({
          owner: "clock-behind",
          now: processNow - 600_000,
          leaseTtlMillis: 30_000,
          limit: 10,
          runnable
        })
        assert.deepStrictEqual(behind.map((s) => s.deployment.id), [expired.deployment.id])
        assert.strictEqual(Option.getOrThrow(yield* store.get(live.deployment.id)).deployment.owner, "owner-a")
      }))

    it.effect("reads timestamps an operator wrote with microseconds as whole milliseconds: get and list work (class 8)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const snapshot = makeSnapshot()
        const id = snapshot.deployment.id
        yield* store.create(snapshot, createOptions)
        yield* store.appendErrors({ deploymentId: id, owner: "owner-a", epoch: 1 }, [
          { job: "job-0", phase: "execute", tag: "E", message: "m", detail: undefined, at: T0 }
        ])
        yield* sql`UPDATE ${sql(`${prefix}deployments`)} SET updated_at = now(),
          created_at = '2024-01-01 00:00:00.123456+00', lease_expires_at = now() + interval '1.2345 seconds'
          WHERE id = ${id}::uuid`
        yield* sql`UPDATE ${sql(`${prefix}deployments`)} SET jobs = jsonb_set(jsonb_set(jobs, '{0,startedAt}',
          to_jsonb(floor(extract(epoch FROM now()) * 1000)::bigint)), '{0,finishedAt}', '-1')
          WHERE id = ${id}::uuid`
        yield* sql`UPDATE ${sql(`${prefix}errors`)} SET at = '2024-01-01 00:00:00.000001+00'
          WHERE deployment_id = ${id}::uuid`
        const read = Option.getOrThrow(yield* store.get(id))
        const january = Date.UTC(2024, 0, 1)
        assert.strictEqual(read.deployment.createdAt, january + 123)
        assert.isTrue(Number.isSafeInteger(read.deployment.updatedAt))
        assert.isTrue(Number.isSafeInteger(read.deployment.leaseExpiresAt!))
        assert.isTrue(Number.isSafeInteger(read.jobs[0]!.startedAt!))
        assert.strictEqual(read.jobs[0]!.finishedAt, -1)
        assert.strictEqual((yield* store.errors(id))[0]!.at, january)
        assert.strictEqual(Option.getOrThrow(yield* store.status(id)).updatedAt, read.deployment.updatedAt)
        const page = yield* store.list({ application: snapshot.deployment.application, limit: 10 })
        assert.deepStrictEqual(page.items.map((row) => row.createdAt), [january + 123])
        assert.strictEqual(page.unreadable, undefined)
      }))

    it.effect("pages exactly once through rows an operator gave times within one millisecond", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const application = `app-${crypto.randomUUID()}`
        const ids: Array<string> = []
        for (let i = 0; i < 7; i++) {
          const snapshot = makeSnapshot({ application })
          yield* store.create(snapshot, createOptions)
          ids.push(snapshot.deployment.id)
        }
        // microseconds 0, 100, ..., 600 past one millisecond, the first id the newest
        yield* sql`UPDATE ${sql(`${prefix}deployments`)} AS d
          SET created_at = timestamptz '2024-01-01 00:00:00.005+00' + (6 - o.n) * interval '100 microseconds'
          FROM jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) WITH ORDINALITY AS o(id, n)
          WHERE d.id = o.id::uuid`
        const seen: Array<string> = []
        let cursor: string | undefined
        for (let pages = 0; pages < 10; pages++) {
          const page = yield* store.list({ application, limit: 2, ...(cursor === undefined ? {} : { cursor }) })
          seen.push(...page.items.map((row) => row.id))
          cursor = page.next
          if (cursor === undefined) break
        }
        assert.deepStrictEqual(seen, ids)
      }))

    it.effect("list reports a row it cannot read, by id and issue, and returns the rest of the page (class 8)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const application = `app-${crypto.randomUUID()}`
        const [a, b, c, d] = [1, 2, 3, 4].map((n) => makeSnapshot({ application, at: T0 + n }))
        for (const snapshot of [a!, b!, c!, d!]) yield* store.create(snapshot, createOptions)
        const deployments = sql(`${prefix}deployments`)
        yield* sql`UPDATE ${deployments} SET updated_at = 'infinity' WHERE id = ${b!.deployment.id}::uuid`
        yield* sql`UPDATE ${deployments} SET created_at = 'infinity' WHERE id = ${d!.deployment.id}::uuid`
        const page = yield* store.list({ application, limit: 10 })
        assert.deepStrictEqual(page.items.map((row) => row.id), [c!.deployment.id, a!.deployment.id])
        assert.deepStrictEqual(page.unreadable?.map((row) => row.id), [d!.deployment.id, b!.deployment.id])
        assert.match(page.unreadable![0]!.issue, /created_at/)
        assert.match(page.unreadable![1]!.issue, /updated_at/)
        // pages that end on an unreadable row, an infinite time included, lead on to the next row
        const pages: Array<Array<string>> = []
        let cursor: string | undefined
        for (let count = 0; count < 10; count++) {
          const next = yield* store.list({ application, limit: 1, ...(cursor === undefined ? {} : { cursor }) })
          pages.push([...next.items, ...(next.unreadable ?? [])].map((row) => row.id))
          cursor = next.next
          if (cursor === undefined) break
        }
        assert.deepStrictEqual(pages, [d!, c!, b!, a!].map((snapshot) => [snapshot.deployment.id]))
        const status = yield* store.list({ application, statuses: ["running"], limit: 10 })
        assert.strictEqual(status.items.length + (status.unreadable?.length ?? 0), 4)
        const unreadable = yield* Effect.flip(store.get(b!.deployment.id))
        assert.strictEqual(unreadable._tag, "PersistenceError")
        assert.strictEqual(unreadable.operation, "get")
      }))

    it.effect("fails the layer with InvalidOption naming each bad option and its range, at its boundaries (class 6)", () =>
      Effect.gen(function*() {
        const invalid: ReadonlyArray<readonly [SqlDeploymentStore.Options, string]> = [
          [{ prefix: "bad-prefix" }, "prefix"],
          [{ prefix: "1abc" }, "prefix"],
          [{ prefix: "Upper_" }, "prefix"],
          [{ prefix: "" }, "prefix"],
          [{ prefix: "x\"; DROP TABLE y; --" }, "prefix"],
          [{ prefix: "a".repeat(40) }, "prefix"],
          [{ statementTimeout: 0 }, "statementTimeout"],
          [{ statementTimeout: 0.5 }, "statementTimeout"],
          [{ statementTimeout: -1 }, "statementTimeout"],
          [{ statementTimeout: Number.NaN }, "statementTimeout"],
          [{ statementTimeout: Number.POSITIVE_INFINITY }, "statementTimeout"],
          [{ statementTimeout: "30 banana" as "30 seconds" }, "statementTimeout"],
          [{ statementTimeout: 86_400_001 }, "statementTimeout"],
          [{ lockTimeout: 0 }, "lockTimeout"],
          [{ lockTimeout: "-5 seconds" }, "lockTimeout"],
          [{ lockTimeout: "31 seconds" }, "lockTimeout"],
          [{ statementTimeout: "5 seconds", lockTimeout: 5_001 }, "lockTimeout"]
        ]
        for (const [options, option] of invalid) {
          const shown = JSON.stringify(options)
          const error = yield* Effect.flip(SqlDeploymentStore.make(options))
          assert.strictEqual(error._tag, "InvalidOption", shown)
          assert.strictEqual(error.option, option, shown)
          assert.isAbove(error.expected.length, 0)
          const layerError = yield* Effect.flip(Effect.scoped(Layer.build(SqlDeploymentStore.layer(options))))
          assert.strictEqual(layerError.option, option, shown)
          assert.strictEqual((yield* Effect.flip(SqlDeploymentStore.migrations(options))).option, option, shown)
          // refused before connecting: over a server that cannot be reached, the error is still the option's
          const unreachable = PgClient.layer({ host: "127.0.0.1", port: 1, connectTimeout: "2 seconds" }).pipe(Layer.orDie)
          const migrationError = yield* Effect.flip(
            Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations(options).pipe(Layer.provide(unreachable))))
          )
          assert.strictEqual(migrationError._tag, "InvalidOption", shown)
        }
        const valid: ReadonlyArray<SqlDeploymentStore.Options> = [
          { prefix: "a" },
          { prefix: "_" },
          { prefix: `a${"_9".repeat(19)}` },
          { statementTimeout: 1 },
          { statementTimeout: "24 hours" },
          { statementTimeout: 1, lockTimeout: 1 },
          { statementTimeout: "5 seconds", lockTimeout: "5 seconds" },
          { statementTimeout: "2 seconds" },
          { lockTimeout: "30 seconds" }
        ]
        for (const options of valid) yield* SqlDeploymentStore.make(options)
      }))

    it.effect("indexes hold names and keys at their longest, and an action of any number of jobs", () =>
      Effect.gen(function*() {
        const { store } = yield* freshStore()
        /** Text of `bytes` UTF-8 bytes that does not compress (an index entry is compressed before it is sized). */
        const random = (bytes: number) => {
          let text = ""
          while (text.length < bytes) text += crypto.randomUUID().replaceAll("-", "")
          return text.slice(0, bytes)
        }
        const jobs = 200
        const base = makeSnapshot({
          application: random(maxNameBytes),
          action: random(maxNameBytes),
          key: random(maxKeyBytes),
          jobs
        })
        const names = base.jobs.map(() => random(maxNameBytes))
        const snapshot = {
          deployment: { ...base.deployment, owner: random(maxNameBytes), fingerprint: JSON.stringify(names) },
          jobs: base.jobs.map((job, index) => ({ ...job, name: names[index]! }))
        }
        assert.isAbove(snapshot.deployment.fingerprint.length, 50_000)
        assert.strictEqual((yield* store.create(snapshot, { leaseTtlMillis: 0 }))._tag, "Created")
        const claimed = yield* store.claim({
          owner: random(maxNameBytes),
          now: T0,
          leaseTtlMillis: 30_000,
          limit: 1,
          runnable: [{ ...snapshot.deployment }]
        })
        assert.deepStrictEqual(claimed.map((s) => s.jobs.length), [jobs])
        const page = yield* store.list({ application: snapshot.deployment.application, action: snapshot.deployment.action, limit: 1 })
        assert.strictEqual(page.items.length, 1)
      }))

    it.effect("fails with PersistenceError (connection), quickly, when the server cannot be reached", () =>
      Effect.gen(function*() {
        const unreachable = PgClient.layer({ host: "127.0.0.1", port: 1, connectTimeout: "2 seconds" }).pipe(Layer.orDie)
        const start = yield* Clock.currentTimeMillis
        const error = yield* Effect.flip(
          Effect.flatMap(DeploymentStore.DeploymentStore, (store) => store.get(crypto.randomUUID())).pipe(
            Effect.provide(SqlDeploymentStore.layer().pipe(Layer.orDie, Layer.provide(unreachable)))
          )
        )
        const elapsed = (yield* Clock.currentTimeMillis) - start
        assert.strictEqual(error._tag, "PersistenceError")
        assert.strictEqual(error.reason, "connection")
        assert.strictEqual(error.operation, "get")
        assert.isBelow(elapsed, 10_000)
        const migrations = yield* Effect.flip(
          Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations().pipe(Layer.provide(unreachable))))
        )
        assert.strictEqual(migrations._tag === "PersistenceError" ? migrations.reason : migrations._tag, "connection")
      }))
  })

  describe("checkpoint", () => {
    it.live("is one round trip and one transaction each, all of it or nothing", () => {
      const roundTrips: RoundTrips = { statuses: [] }
      // scoped inside the client, so the tables are dropped before its connection closes
      return Effect.scoped(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const snapshot = makeSnapshot({ jobs: 3 })
        yield* store.create(snapshot, createOptions)
        const fence = { deploymentId: snapshot.deployment.id, owner: "owner-a", epoch: 1 }
        roundTrips.statuses.length = 0
        for (let i = 1; i <= 50; i++) {
          const result = yield* store.checkpoint({
            fence,
            at: T0 + i,
            deployment: { currentJob: i % 3, state: { count: i } },
            jobs: [
              { index: (i - 1) % 3, status: "succeeded", output: { n: i }, finishedAt: T0 + i },
              { index: i % 3, status: "running", input: { n: i }, attempts: i, startedAt: T0 + i }
            ],
            errors: i % 2 === 0
              ? [{ job: "job-0", phase: "execute", tag: "E", message: `m${i}`, detail: null, at: T0 + i }]
              : []
          })
          assert.isFalse(result.stopRequested)
        }
        // every checkpoint: exactly one ReadyForQuery, and no transaction block left open (so no BEGIN/COMMIT)
        assert.deepStrictEqual(roundTrips.statuses, Array.from({ length: 50 }, () => "I"))

        // a fenced-out checkpoint: one round trip as well, and nothing written
        roundTrips.statuses.length = 0
        const stale = yield* Effect.flip(store.checkpoint({
          fence: { ...fence, epoch: 0 },
          at: T0 + 99,
          deployment: { status: "succeeded" },
          jobs: [{ index: 0, status: "failed" }],
          errors: [{ job: "job-0", phase: "execute", tag: "E", message: "stale", detail: undefined, at: T0 }]
        }))
        assert.strictEqual(stale._tag, "LeaseLost")
        assert.deepStrictEqual(roundTrips.statuses, ["I"])

        // the last checkpoint's rows were all written by the same transaction
        const id = snapshot.deployment.id
        const writers = yield* sql<{ xid: string }>`
          SELECT xmin::text AS xid FROM ${sql(`${prefix}deployments`)} WHERE id = ${id}::uuid
          UNION ALL (
            SELECT xmin::text FROM ${sql(`${prefix}errors`)} WHERE deployment_id = ${id}::uuid
            ORDER BY sequence DESC LIMIT 1
          )`
        assert.strictEqual(writers.length, 2)
        assert.strictEqual(new Set(writers.map((row) => row.xid)).size, 1)
        const read = Option.getOrThrow(yield* store.get(id))
        assert.deepStrictEqual(read.deployment.state, { count: 50 })
        assert.strictEqual(read.deployment.status, "running")
        assert.deepStrictEqual(read.jobs.map((job) => job.status), ["succeeded", "succeeded", "running"])
        assert.strictEqual(read.deployment.updatedAt, T0 + 50)
        assert.deepStrictEqual(read.jobs.map((job) => job.attempts), [48, 49, 50])
        assert.strictEqual((yield* store.errors(id)).length, 25)
      })).pipe(Effect.provide(countingClient(roundTrips)))
    }, 60_000)
  })
})
