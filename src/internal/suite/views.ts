/**
 * Conformance tests: what operators' views read (0.3 contract). `counts` counts the deployments of each status, of
 * an application and action when given, each count stopping at its limit; `jobData` reads every job data entry of a
 * deployment, by job then key; `list` filters by key alone; a rollback step's times and a job's earlier attempts are
 * kept on its job record, and later checkpoints leave them.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DeploymentStore } from "../../DeploymentStore.ts"
import { fenceOf, type Helpers, makeSnapshot, type SuiteIt, T0 } from "./fixtures.ts"

/** The operators' views: counts, job data, lists by key, a job's rollback times and earlier attempts. */
export const viewTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("operators' views", () => {
    countDataAndKeyTests(it, helpers)
    jobRecordTimesTests(it, helpers)
  })
}

const countDataAndKeyTests = (it: SuiteIt, { created, paused }: Helpers): void => {
  it.effect("counts the deployments of each status, of an application and action, each count at most its limit", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const application = `app-${crypto.randomUUID()}`
      for (let n = 0; n < 3; n++) yield* created(makeSnapshot({ application, action: "deploy" }))
      yield* paused(makeSnapshot({ application, action: "deploy" }))
      yield* created(makeSnapshot({ application, action: "other" }))

      assert.deepStrictEqual(yield* store.counts({ application, action: "deploy", limit: 100 }), {
        running: 3,
        paused: 1,
        rolling_back: 0,
        rollback_failed: 0,
        rolled_back: 0,
        succeeded: 0
      })
      const all = yield* store.counts({ application, limit: 100 })
      assert.strictEqual(all.running, 4)
      assert.strictEqual((yield* store.counts({ application, limit: 2 })).running, 2, "a count stops at its limit")
      const none = yield* store.counts({ application: `app-${crypto.randomUUID()}`, limit: 100 })
      assert.deepStrictEqual(Object.values(none), [0, 0, 0, 0, 0, 0])
    }))

  it.effect("reads every job data entry of a deployment, by job then key, exactly as written", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot())
      const fence = fenceOf(snapshot)
      yield* store.setJobData(fence, "job-1", "b", { deep: [1, "two", null] })
      yield* store.setJobData(fence, "job-0", "z", "last key of the first job")
      yield* store.setJobData(fence, "job-1", "a", 7)
      yield* store.setJobData(fence, "job-0", "z", "replaced")

      assert.deepStrictEqual(yield* store.jobData(snapshot.deployment.id), [
        { job: "job-0", key: "z", value: "replaced" },
        { job: "job-1", key: "a", value: 7 },
        { job: "job-1", key: "b", value: { deep: [1, "two", null] } }
      ])
      assert.deepStrictEqual(yield* store.jobData(crypto.randomUUID()), [])
      assert.deepStrictEqual(yield* store.jobData("not an id"), [])
    }))

  it.effect("lists deployments by key alone, across applications, newest first", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const key = `key-${crypto.randomUUID()}`
      const older = yield* created(makeSnapshot({ key, at: T0 }))
      const newer = yield* created(makeSnapshot({ key, at: T0 + 1 }))
      yield* created(makeSnapshot({ key: `${key}-other` }))

      const page = yield* store.list({ key, limit: 10 })
      assert.deepStrictEqual(page.items.map((row) => row.id), [newer.deployment.id, older.deployment.id])
      const running = yield* store.list({ key, statuses: ["running"], limit: 1 })
      assert.deepStrictEqual(running.items.map((row) => row.id), [newer.deployment.id])
      assert.isDefined(running.next)
    }))
}

const jobRecordTimesTests = (it: SuiteIt, { created, get }: Helpers): void => {
  it.effect("keeps a rollback step's times and a job's earlier attempts on its record; later checkpoints leave them", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot())
      const fence = fenceOf(snapshot)
      yield* store.checkpoint({
        fence,
        at: T0 + 10,
        deployment: { status: "rolling_back" },
        jobs: [{ index: 0, status: "failed", finishedAt: T0 + 10 }],
        errors: []
      })
      yield* store.checkpoint({
        fence,
        at: T0 + 30,
        deployment: {},
        jobs: [{ index: 0, status: "rolled_back", rollbackStartedAt: T0 + 20, rollbackFinishedAt: T0 + 30 }],
        errors: []
      })
      yield* store.checkpoint({
        fence,
        at: T0 + 50,
        deployment: {},
        jobs: [{
          index: 1,
          status: "running",
          attempts: 3,
          startedAt: T0 + 50,
          earlierAttempts: [{ attempt: 1, startedAt: T0 + 1, finishedAt: T0 + 2 }, { attempt: 2, startedAt: T0 + 3 }]
        }],
        errors: []
      })
      yield* store.checkpoint({ fence, at: T0 + 60, deployment: {}, jobs: [{ index: 1, status: "succeeded" }], errors: [] })
      assert.deepStrictEqual((yield* get(snapshot.deployment.id)).jobs[1]!.earlierAttempts, [
        { attempt: 1, startedAt: T0 + 1, finishedAt: T0 + 2 },
        { attempt: 2, startedAt: T0 + 3 }
      ], "a job's earlier attempts are kept as written, and left by later checkpoints")
      yield* store.checkpoint({
        fence,
        at: T0 + 40,
        deployment: { status: "rolled_back", releaseLease: true },
        jobs: [{ index: 1, status: "pending" }],
        errors: []
      })
      const [job] = (yield* get(snapshot.deployment.id)).jobs
      assert.strictEqual(job!.status, "rolled_back")
      assert.strictEqual(job!.finishedAt, T0 + 10, "the end of the last attempt stays")
      assert.strictEqual(job!.rollbackStartedAt, T0 + 20)
      assert.strictEqual(job!.rollbackFinishedAt, T0 + 30)
      const other = (yield* get(snapshot.deployment.id)).jobs[2]!
      assert.isFalse("rollbackStartedAt" in other && other.rollbackStartedAt !== undefined)
      assert.isTrue(Option.isSome(yield* store.get(snapshot.deployment.id)))
    }))
}
