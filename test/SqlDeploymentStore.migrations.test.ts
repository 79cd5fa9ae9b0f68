/**
 * Upgrading a database made by effect-actions 0.1 (migration 0001 only) or 0.2 (0001 and 0002) to the current
 * layout.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import type { DeploymentStatus } from "../src/Deployment.ts"
import type { NewHistoryRow } from "../src/DeploymentStore.ts"
import { firstMigrationLoaderFor, loaderThroughFor, tablesFor } from "../src/internal/sqlTables.ts"
import * as SqlDeploymentStore from "../src/SqlDeploymentStore.ts"
import { dropTables, PgLive, uniquePrefix } from "./support/postgres.ts"

const T0 = 1_700_000_000_000
const statuses: ReadonlyArray<DeploymentStatus> = ["running", "succeeded", "rolling_back", "rolled_back", "rollback_failed"]

describe("SqlDeploymentStore migrations", () => {
  layer(PgLive, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("upgrades a 0.1 database with deployments in every status: listed, read and claimed as before", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const prefix = uniquePrefix()
        yield* Effect.addFinalizer(() => dropTables(prefix))
        const tables = tablesFor(prefix)
        assert.deepStrictEqual(
          yield* Migrator.make({})({ loader: firstMigrationLoaderFor(tables), table: tables.migrations }),
          [[1, "create_tables"]]
        )
        // rows as 0.1 wrote them: one deployment per status, with state, output, failure, jobs, data and errors
        const application = "app-upgraded"
        const ids = statuses.map(() => crypto.randomUUID())
        const d = sql(tables.deployments)
        for (const [n, status] of statuses.entries()) {
          const active = status === "running" || status === "rolling_back"
          const failed = status === "rolled_back" || status === "rollback_failed" || status === "rolling_back"
          yield* sql`INSERT INTO ${d} (id, application, action, key, fingerprint, status, current_job, state, output,
              failure, owner, lease_expires_at, lease_epoch, stop_requested, created_at, updated_at)
            VALUES (${ids[n]!}::uuid, ${application}, 'provision', ${`key-${n}`}, '["a","b"]', ${status}, 1,
              ${JSON.stringify({ step: n })}::jsonb,
              ${status === "succeeded" ? JSON.stringify({ done: n }) : null}::jsonb,
              ${failed ? JSON.stringify({ job: "b", jobIndex: 1, phase: "execute", tag: "Boom", message: `failed ${n}` }) : null}::jsonb,
              ${active ? "crashed-owner" : null}, ${active ? new Date(T0).toISOString() : null}::timestamptz, 3, false,
              ${new Date(T0 + n).toISOString()}::timestamptz, ${new Date(T0 + 10 + n).toISOString()}::timestamptz)`
          yield* sql`INSERT INTO ${sql(tables.jobRuns)} (deployment_id, "index", name, status, input, output, attempts,
              started_at, finished_at)
            VALUES (${ids[n]!}::uuid, 0, 'a', ${failed ? "rolled_back" : "succeeded"}, '{"in":0}', '{"out":0}', 1,
                ${new Date(T0).toISOString()}::timestamptz, ${new Date(T0 + 1).toISOString()}::timestamptz),
              (${ids[n]!}::uuid, 1, 'b', ${status === "succeeded" ? "succeeded" : status === "running" ? "running" : "failed"},
                '{"in":1}', ${status === "succeeded" ? '{"out":1}' : null}::jsonb, 2,
                ${new Date(T0 + 1).toISOString()}::timestamptz, NULL)`
          yield* sql`INSERT INTO ${sql(tables.jobData)} (deployment_id, job, key, value)
            VALUES (${ids[n]!}::uuid, 'a', 'vm', ${JSON.stringify({ vm: n })}::jsonb)`
          yield* sql`INSERT INTO ${sql(tables.errors)} (deployment_id, job, phase, tag, message, detail, at)
            VALUES (${ids[n]!}::uuid, 'b', 'execute', 'Boom', ${`error ${n}`}, '{"why":"x"}',
              ${new Date(T0 + 2).toISOString()}::timestamptz)`
        }

        // upgrade: 0002 and 0003 run
        yield* Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations({ prefix })))
        const applied = yield* sql<{ migration_id: number }>`SELECT migration_id FROM ${sql(tables.migrations)}
          ORDER BY migration_id`
        assert.deepStrictEqual(applied.map((row) => row.migration_id), [1, 2, 3, 4])
        const indexes = yield* sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes
          WHERE tablename = ${tables.deployments} ORDER BY indexname`
        const names = indexes.map((row) => row.name.slice(prefix.length))
        for (const index of ["deployments_claim_idx", "deployments_app_only_idx", "deployments_action_idx"]) {
          assert.include(names, index)
        }
        assert.notInclude(names, "deployments_active_idx")

        const store = yield* Effect.orDie(SqlDeploymentStore.make({ prefix }))
        const page = yield* store.list({ application, limit: 10 })
        assert.deepStrictEqual(page.items.map((row) => row.id), [...ids].reverse())
        assert.strictEqual(page.unreadable, undefined)
        for (const [n, status] of statuses.entries()) {
          const read = Option.getOrThrow(yield* store.get(ids[n]!))
          assert.strictEqual(read.deployment.status, status)
          assert.strictEqual(read.deployment.resumes, 0)
          assert.strictEqual(read.deployment.parked, undefined)
          assert.deepStrictEqual(read.deployment.state, { step: n })
          assert.strictEqual(read.deployment.key, `key-${n}`)
          assert.strictEqual(read.deployment.createdAt, T0 + n)
          assert.deepStrictEqual(read.jobs.map((job) => [job.name, job.input, job.attempts]), [["a", { in: 0 }, 1], ["b", { in: 1 }, 2]])
          assert.deepStrictEqual(yield* store.getJobData(ids[n]!, "a", "vm"), Option.some({ vm: n }))
          assert.deepStrictEqual((yield* store.errors(ids[n]!)).map((entry) => entry.message), [`error ${n}`])
          assert.strictEqual(Option.getOrThrow(yield* store.status(ids[n]!)).status, status)
        }
        assert.deepStrictEqual(
          Option.getOrThrow(yield* store.get(ids[1]!)).deployment.output,
          { done: 1 }
        )
        // the active ones, whose owner crashed, are claimed (and counted), the finished ones are not
        const claimed = yield* store.claim({
          owner: "successor",
          now: T0,
          leaseTtlMillis: 30_000,
          limit: 10,
          runnable: [{ application, action: "provision", fingerprint: "[\"a\",\"b\"]" }]
        })
        assert.deepStrictEqual(
          claimed.map((s) => [s.deployment.id, s.deployment.status, s.deployment.resumes, s.deployment.leaseEpoch]).sort(),
          [[ids[0]!, "running", 1, 4], [ids[2]!, "rolling_back", 1, 4]].sort()
        )
        // a repeated create of an upgraded deployment finds it by id
        const repeat = Option.getOrThrow(yield* store.get(ids[3]!))
        assert.strictEqual((yield* store.create(repeat, { leaseTtlMillis: 30_000 }))._tag, "Existing")
      }))

    it.effect("upgrades a 0.2 database with deployments in every status: read, listed, taken over and pruned", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const prefix = uniquePrefix()
        yield* Effect.addFinalizer(() => dropTables(prefix))
        const tables = tablesFor(prefix)
        assert.deepStrictEqual(
          yield* Migrator.make({})({ loader: loaderThroughFor(tables, 2), table: tables.migrations }),
          [[1, "create_tables"], [2, "resumes_parked_and_list_indexes"]]
        )
        // rows as 0.2 wrote them: one deployment per status, a parked one more, with resumes, jobs, data and errors
        const application = "app-upgraded-0-2"
        const rows = [
          ...statuses.map((status) => ({ status, parked: false })),
          { status: "rollback_failed" as const, parked: true }
        ]
        const ids = rows.map(() => crypto.randomUUID())
        const d = sql(tables.deployments)
        const parked = { job: "b", field: "input", issue: "Expected string, got 1", at: T0 + 5 }
        // `upgraded`: a row of the upgraded layout, whose job records are in the deployment row (0004)
        const insert = (id: string, n: number, status: string, isParked: boolean, upgraded = false) => {
          const active = status === "running" || status === "rolling_back"
          const failed = status !== "running" && status !== "succeeded"
          const failure = { job: "b", jobIndex: 1, phase: "execute", tag: "Boom", message: `failed ${n}` }
          return sql`INSERT INTO ${d} (id, application, action, key, fingerprint, status, current_job, state, output,
              failure, owner, lease_expires_at, lease_epoch, stop_requested, resumes, parked, created_at, updated_at
              ${upgraded ? sql`, jobs` : sql``})
            VALUES (${id}::uuid, ${application}, 'provision', ${`key-${n}`}, '["a","b"]', ${status}, 1,
              ${JSON.stringify({ step: n })}::jsonb,
              ${status === "succeeded" ? JSON.stringify({ done: n }) : null}::jsonb,
              ${failed ? JSON.stringify(failure) : null}::jsonb,
              ${active ? "crashed-owner" : null}, ${active ? new Date(T0).toISOString() : null}::timestamptz, 3, false,
              ${n % 3}, ${isParked ? JSON.stringify(parked) : null}::jsonb,
              ${new Date(T0 + n).toISOString()}::timestamptz, ${new Date(T0 + 10 + n).toISOString()}::timestamptz
              ${upgraded ? sql`, '[]'::jsonb` : sql``})`
        }
        for (const [n, row] of rows.entries()) {
          yield* insert(ids[n]!, n, row.status, row.parked)
          const second = row.status === "succeeded" ? "succeeded" : row.status === "running" ? "running" : "failed"
          yield* sql`INSERT INTO ${sql(tables.jobRuns)} (deployment_id, "index", name, status, input, output, attempts,
              started_at, finished_at)
            VALUES (${ids[n]!}::uuid, 0, 'a', 'succeeded', '{"in":0}', '{"out":0}', 1,
                ${new Date(T0).toISOString()}::timestamptz, ${new Date(T0 + 1).toISOString()}::timestamptz),
              (${ids[n]!}::uuid, 1, 'b', ${second}, '{"in":1}', NULL, 2, ${new Date(T0 + 1).toISOString()}::timestamptz,
                ${row.status === "running" ? null : new Date(T0 + 2).toISOString()}::timestamptz)`
          yield* sql`INSERT INTO ${sql(tables.jobData)} (deployment_id, job, key, value)
            VALUES (${ids[n]!}::uuid, 'a', 'vm', ${JSON.stringify({ vm: n })}::jsonb)`
          yield* sql`INSERT INTO ${sql(tables.errors)} (deployment_id, job, phase, tag, message, detail, at)
            VALUES (${ids[n]!}::uuid, 'b', 'execute', 'Boom', ${`error ${n}`}, '{"why":"x"}',
              ${new Date(T0 + 2).toISOString()}::timestamptz)`
        }
        // 0.2's status check knows no paused
        const refusedBefore = yield* Effect.flip(insert(crypto.randomUUID(), 90, "paused", false))
        assert.strictEqual(refusedBefore._tag, "SqlError")

        yield* Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations({ prefix })))
        const applied = yield* sql<{ migration_id: number }>`SELECT migration_id FROM ${sql(tables.migrations)}
          ORDER BY migration_id`
        assert.deepStrictEqual(applied.map((row) => row.migration_id), [1, 2, 3, 4])
        const indexes = yield* sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes
          WHERE tablename IN (${tables.deployments}, ${tables.history}) ORDER BY indexname`
        const names = indexes.map((row) => row.name.slice(prefix.length))
        for (const index of ["deployments_requests_idx", "history_deployment_idx", "history_pkey"]) {
          assert.include(names, index)
        }
        // the new check allows paused, and still refuses what is no status
        yield* insert(crypto.randomUUID(), 91, "paused", false, true)
        assert.strictEqual((yield* Effect.flip(insert(crypto.randomUUID(), 92, "bogus", false, true)))._tag, "SqlError")
        yield* sql`DELETE FROM ${d} WHERE key IN ('key-91')`

        const store = yield* Effect.orDie(SqlDeploymentStore.make({ prefix }))
        const page = yield* store.list({ application, limit: 10 })
        assert.deepStrictEqual(page.items.map((row) => row.id), [...ids].reverse())
        assert.strictEqual(page.unreadable, undefined)
        const ranged = yield* store.list({ application, createdAfter: T0 + 1, createdBefore: T0 + 4, limit: 10 })
        assert.deepStrictEqual(ranged.items.map((row) => row.id), [ids[3]!, ids[2]!, ids[1]!])
        for (const [n, row] of rows.entries()) {
          const read = Option.getOrThrow(yield* store.get(ids[n]!))
          assert.strictEqual(read.deployment.status, row.status)
          assert.strictEqual(read.deployment.resumes, n % 3)
          assert.deepStrictEqual(read.deployment.parked, row.parked ? parked : undefined)
          assert.strictEqual(read.deployment.restartOf, undefined)
          assert.strictEqual(read.deployment.request, undefined)
          assert.deepStrictEqual(read.deployment.state, { step: n })
          assert.deepStrictEqual(
            read.jobs.map((job) => [job.name, job.input, job.attempts]),
            [["a", { in: 0 }, 1], ["b", { in: 1 }, 2]]
          )
          assert.deepStrictEqual(yield* store.getJobData(ids[n]!, "a", "vm"), Option.some({ vm: n }))
          assert.deepStrictEqual((yield* store.errors(ids[n]!)).map((entry) => entry.message), [`error ${n}`])
          assert.deepStrictEqual(yield* store.history(ids[n]!), [])
          assert.strictEqual(Option.getOrThrow(yield* store.status(ids[n]!)).status, row.status)
        }
        const [running, succeeded, rollingBack, rolledBack, rollbackFailed, parkedFailed] = ids as [
          string, string, string, string, string, string
        ]

        const entry = (operation: NewHistoryRow["operation"], by: string): NewHistoryRow => ({
          operation,
          outcome: "done",
          by,
          at: T0 + 100,
          reason: undefined,
          job: undefined,
          message: undefined,
          detail: undefined
        })
        // a rollback_failed deployment of 0.2 is taken over to retry its rollback, from the epoch it had
        const takeOver = (deploymentId: string, status: "rollback_failed" | "running", leaseEpoch: number) =>
          store.takeOver({
            deploymentId,
            expect: { status, leaseEpoch },
            owner: "operator",
            now: T0,
            leaseTtlMillis: 30_000,
            at: T0 + 100,
            deployment: { status: "rolling_back" },
            jobs: [{ index: 1, status: "rollback_failed", finishedAt: null }],
            errors: [],
            history: entry("retry_rollback", "operator")
          })
        assert.strictEqual((yield* takeOver(rollbackFailed, "rollback_failed", 2))._tag, "Changed")
        const taken = yield* takeOver(rollbackFailed, "rollback_failed", 3)
        assert.strictEqual(taken._tag, "TakenOver")
        if (taken._tag === "TakenOver") {
          assert.deepStrictEqual(
            [taken.snapshot.deployment.status, taken.snapshot.deployment.owner, taken.snapshot.deployment.leaseEpoch],
            ["rolling_back", "operator", 4]
          )
          assert.strictEqual(taken.snapshot.deployment.resumes, 0)
          assert.strictEqual(taken.snapshot.jobs[1]!.finishedAt, undefined)
        }
        assert.deepStrictEqual((yield* store.history(rollbackFailed)).map((row) => row.by), ["operator"])
        // the parked one is refused; a running one with a crashed owner is claimed, not taken over
        assert.strictEqual((yield* takeOver(parkedFailed, "rollback_failed", 3))._tag, "Changed")
        assert.strictEqual((yield* takeOver(running, "running", 2))._tag, "Changed")
        const claimed = yield* store.claim({
          owner: "successor",
          now: T0,
          leaseTtlMillis: 30_000,
          limit: 10,
          runnable: [{ application, action: "provision", fingerprint: "[\"a\",\"b\"]" }]
        })
        assert.deepStrictEqual(claimed.map((s) => s.deployment.id).sort(), [running, rollingBack].sort())
        // the claimed running one pauses; prune deletes the finished ones of 0.2 (the parked one too: it is finished),
        // with their history, and nothing else
        yield* store.checkpoint({
          fence: { deploymentId: running, owner: "successor", epoch: 4 },
          at: T0 + 20,
          deployment: { status: "paused", releaseLease: true },
          jobs: [],
          errors: []
        })
        assert.isTrue(yield* store.recordOperation(succeeded, entry("restart", "operator")))
        assert.strictEqual(yield* store.prune(T0 + 1_000, 100), 3)
        for (const id of [succeeded, rolledBack, parkedFailed]) assert.isTrue(Option.isNone(yield* store.get(id)))
        for (const id of [running, rollingBack, rollbackFailed]) {
          assert.isTrue(Option.isSome(yield* store.get(id)))
        }
        assert.strictEqual(Option.getOrThrow(yield* store.status(running)).status, "paused")
        const orphans = yield* sql<{ count: string }>`SELECT count(*)::text AS count FROM ${sql(tables.history)}
          WHERE deployment_id = ${succeeded}::uuid`
        assert.strictEqual(orphans[0]!.count, "0")
      }))
  })
})
