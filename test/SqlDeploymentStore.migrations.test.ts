/**
 * Upgrading a database made by effect-actions 0.1 (migration 0001 only) to the current layout.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import type { DeploymentStatus } from "../src/Deployment.ts"
import { firstMigrationLoaderFor, tablesFor } from "../src/internal/sqlTables.ts"
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

        // upgrade: only 0002 runs
        yield* Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations({ prefix })))
        const applied = yield* sql<{ migration_id: number }>`SELECT migration_id FROM ${sql(tables.migrations)}
          ORDER BY migration_id`
        assert.deepStrictEqual(applied.map((row) => row.migration_id), [1, 2])
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
  })
})
