/**
 * Upgrading a database that effect-actions 0.3 wrote (the layout through migration 0003, job runs in a table of their
 * own) to the current layout (0004: the job records in the deployment row), with rows the release itself wrote
 * (`test/fixtures/release-0.3-rows.json`, see `generateRelease03Rows.ts`): deployments in every status, with job
 * data, errors, state, an operator's history and a pending request. After the migration every deployment reads as
 * it was written, and each goes on: forward, backward, or by an operator's operation.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { JobRunRow } from "../src/DeploymentStore.ts"
import { Actions, SqlDeploymentStore } from "../src/index.ts"
import { loaderThroughFor, type Tables, tablesFor } from "../src/internal/sqlTables.ts"
import { dropTables, PgLive, uniquePrefix } from "./support/postgres.ts"
import { makeReleaseActions, releaseApplication } from "./support/releaseAction.ts"

type Row = Record<string, unknown>

interface Fixture {
  readonly layout: number
  readonly deployments: Readonly<Record<
    "succeeded" | "rolledBack" | "rollbackFailed" | "paused" | "requested" | "restarted" | "running" | "rollingBack",
    string
  >>
  readonly tables: Readonly<Record<"deployments" | "job_runs" | "job_data" | "errors" | "history", ReadonlyArray<Row>>>
}

const fixture = JSON.parse(
  Fs.readFileSync(Path.join(import.meta.dirname, "fixtures", "release-0.3-rows.json"), "utf8")
) as Fixture
const ids = fixture.deployments

/** Loads the fixture's rows into tables migrated through 0003, as they were (identity sequences moved past them). */
const loadFixture = (tables: Tables) =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const names = {
      deployments: tables.deployments,
      job_runs: tables.jobRuns,
      job_data: tables.jobData,
      errors: tables.errors,
      history: tables.history
    } as const
    for (const [key, table] of Object.entries(names)) {
      const rows = JSON.stringify(fixture.tables[key as keyof typeof names])
      const identity = key === "errors" || key === "history"
      yield* sql`INSERT INTO ${sql(table)} ${identity ? sql`OVERRIDING SYSTEM VALUE` : sql``}
        SELECT * FROM jsonb_populate_recordset(NULL::${sql(table)}, ${rows}::jsonb)`
      if (identity) {
        yield* sql`SELECT setval(pg_get_serial_sequence(${table}, 'sequence'), (SELECT max(sequence) FROM ${sql(table)}))`
      }
    }
  })

/** A time of the fixture (ISO text, or none) as the epoch milliseconds the store reads. */
const millis = (value: unknown): number | undefined => typeof value === "string" ? Date.parse(value) : undefined

/** A job run row of the fixture as the store's encoded job record. */
const expectedJob = (row: Row): JobRunRow => {
  const rollbackStartedAt = millis(row.rollback_started_at)
  const rollbackFinishedAt = millis(row.rollback_finished_at)
  return {
    index: row.index as number,
    name: row.name as string,
    status: row.status as JobRunRow["status"],
    input: (row.input ?? undefined) as JobRunRow["input"],
    output: (row.output ?? undefined) as JobRunRow["output"],
    attempts: row.attempts as number,
    startedAt: millis(row.started_at),
    finishedAt: millis(row.finished_at),
    ...(rollbackStartedAt === undefined ? {} : { rollbackStartedAt }),
    ...(rollbackFinishedAt === undefined ? {} : { rollbackFinishedAt }),
    ...(row.earlier_attempts === null
      ? {}
      : { earlierAttempts: row.earlier_attempts as NonNullable<JobRunRow["earlierAttempts"]> })
  }
}

describe("SqlDeploymentStore upgrade from 0.3", () => {
  layer(PgLive, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("moves the job runs of every deployment into its row: each reads as 0.3 wrote it", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const prefix = uniquePrefix()
        yield* Effect.addFinalizer(() => dropTables(prefix))
        const tables = tablesFor(prefix)
        assert.strictEqual(fixture.layout, 3)
        yield* Migrator.make({})({ loader: loaderThroughFor(tables, 3), table: tables.migrations })
        yield* loadFixture(tables)

        yield* Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations({ prefix })))
        const [gone] = yield* sql<{ found: string | null }>`SELECT to_regclass(${tables.jobRuns})::text AS found`
        assert.strictEqual(gone!.found, null)
        // the leaner indexes: none on the owner, the unique key of the keyed deployments only
        const indexes = yield* sql<{ name: string; definition: string }>`SELECT indexname AS name,
          indexdef AS definition FROM pg_indexes WHERE tablename = ${tables.deployments}`
        const names = indexes.map((index) => index.name.slice(prefix.length))
        assert.notInclude(names, "deployments_owner_idx")
        const key = indexes.find((index) => index.name === `${prefix}deployments_key`)
        assert.match(key?.definition ?? "", /^CREATE UNIQUE INDEX .* \(application, action, key\) WHERE \(key IS NOT NULL\)$/)

        const store = yield* Effect.orDie(SqlDeploymentStore.make({ prefix }))
        for (const row of fixture.tables.deployments) {
          const id = row.id as string
          const read = Option.getOrThrow(yield* store.get(id))
          assert.deepStrictEqual(
            read.jobs,
            fixture.tables.job_runs.filter((job) => job.deployment_id === id).map(expectedJob),
            `the job records of ${row.status} ${id}`
          )
          assert.strictEqual(read.deployment.status, row.status)
          assert.strictEqual(read.deployment.currentJob, row.current_job)
          assert.deepStrictEqual(read.deployment.state, row.state)
          assert.strictEqual(read.deployment.updatedAt, millis(row.updated_at))
          assert.strictEqual(
            (yield* store.errors(id)).length,
            fixture.tables.errors.filter((entry) => entry.deployment_id === id).length
          )
          assert.deepStrictEqual(
            (yield* store.history(id)).map((entry) => entry.operation),
            fixture.tables.history.filter((entry) => entry.deployment_id === id).map((entry) => entry.operation)
          )
        }
        const page = yield* store.list({ application: releaseApplication, limit: 20 })
        assert.strictEqual(page.items.length, fixture.tables.deployments.length)
        assert.strictEqual(page.unreadable, undefined)
      }))

    it.effect("goes on after the upgrade: forward after a crash, backward after a crash, and by operators", () =>
      Effect.gen(function*() {
        const prefix = uniquePrefix()
        yield* Effect.addFinalizer(() => dropTables(prefix))
        const tables = tablesFor(prefix)
        yield* Migrator.make({})({ loader: loaderThroughFor(tables, 3), table: tables.migrations })
        yield* loadFixture(tables)

        const { Provision, ProvisionPaused } = makeReleaseActions(Effect.void)
        const runtime = Actions.layer({ owner: "upgraded-worker", recovery: { enabled: false } }).pipe(
          Layer.provide(SqlDeploymentStore.layer({ prefix })),
          Layer.provide(SqlDeploymentStore.layerMigrations({ prefix }))
        )
        const actions = Context.get(yield* Layer.build(runtime), Actions.Actions)
        yield* actions.register(Provision, { application: releaseApplication })
        yield* actions.register(ProvisionPaused, { application: releaseApplication })

        // listed and read as they were
        const page = yield* actions.list({ application: releaseApplication, limit: 20 })
        const statusOf = new Map(page.items.map((deployment) => [deployment.id, deployment.status]))
        assert.deepStrictEqual(Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, statusOf.get(id)])), {
          succeeded: "succeeded",
          rolledBack: "rolled_back",
          rollbackFailed: "rollback_failed",
          paused: "paused",
          requested: "paused",
          restarted: "succeeded",
          running: "running",
          rollingBack: "rolling_back"
        })
        const paused = yield* actions.get(ids.paused)
        assert.deepStrictEqual(paused.jobs.map((job) => [job.name, job.status, job.attempts]), [
          ["reserve", "succeeded", 1],
          ["configure", "failed", 2],
          ["finish", "pending", 0]
        ])
        assert.strictEqual(paused.jobs[1]!.earlierAttempts.length, 1)
        assert.deepStrictEqual(paused.history.map((entry) => [entry.operation, entry.outcome]), [["retry", "done"]])
        assert.deepStrictEqual(yield* actions.jobData(ids.paused), [
          { job: "reserve", key: "address", value: "10.0.0.6" }
        ])
        const restarted = yield* actions.get(ids.restarted)
        assert.deepStrictEqual(restarted.restartOf, Option.some(ids.succeeded))

        // one recovery pass: the two a dead process held resume, the pending request is carried out
        const summary = yield* actions.resume()
        assert.deepStrictEqual([...summary.resumed].sort(), [ids.running, ids.rollingBack].sort())
        assert.deepStrictEqual(summary.carried, [ids.requested])

        // forward after the crash: the job that was running runs again, then the last one
        const done = yield* actions.awaitById(ids.running)
        assert.deepStrictEqual(done.output, { name: "block", done: true })
        const running = yield* actions.get(ids.running)
        assert.deepStrictEqual(running.jobs.map((job) => [job.status, job.attempts]), [
          ["succeeded", 1],
          ["succeeded", 2],
          ["succeeded", 1]
        ])
        // the state as of the last checkpoint: what the crashed attempt changed after it is lost with it
        assert.deepStrictEqual(running.state, Option.some({ ran: ["reserve", "configure", "finish"] }))

        // backward after the crash: the rollback that was running runs again, and ends
        const rolledBack = yield* Effect.exit(actions.awaitById(ids.rollingBack))
        assert.isTrue(Exit.isFailure(rolledBack))
        const rollingBack = yield* actions.get(ids.rollingBack)
        assert.strictEqual(rollingBack.status, "rolled_back")
        assert.strictEqual(rollingBack.jobs[0]!.status, "rolled_back")
        assert.isTrue(Option.isSome(rollingBack.jobs[0]!.rollbackFinishedAt))

        // the request a process without the code left: retried with its replacement input, it succeeds
        const requested = yield* actions.awaitById(ids.requested)
        assert.deepStrictEqual(requested.output, { name: "requested", done: true })
        assert.deepStrictEqual((yield* actions.get(ids.requested)).history.map((entry) => entry.outcome), [
          "requested",
          "done"
        ])

        // operators: the paused one rolled back, the failed rollback tried again (it fails again, as its input says)
        yield* actions.rollback(ids.paused, { reason: "after the upgrade" })
        assert.isTrue(Exit.isFailure(yield* Effect.exit(actions.awaitById(ids.paused))))
        assert.strictEqual((yield* actions.get(ids.paused)).status, "rolled_back")
        yield* actions.retryRollback(ids.rollbackFailed)
        assert.isTrue(Exit.isFailure(yield* Effect.exit(actions.awaitById(ids.rollbackFailed))))
        const retried = yield* actions.get(ids.rollbackFailed)
        assert.strictEqual(retried.status, "rollback_failed")
        assert.deepStrictEqual(retried.history.map((entry) => entry.operation), ["retry_rollback"])
      }))
  })
})
