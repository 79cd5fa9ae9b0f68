/**
 * Conformance tests: resume counts and parked deployments. `claim` counts each claim in `resumes`, a checkpoint
 * sets `resumes` and `parked`, and a parked deployment is never claimed, never reported as mismatched, and
 * refuses stop requests.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect } from "effect"
import { DeploymentStore, type ParkedRow, type Snapshot } from "../../DeploymentStore.ts"
import { CLAIM_AT, fenceOf, type Helpers, makeSnapshot, runnableOf, type SuiteIt, T0, TTL } from "./fixtures.ts"

const parkedRow: ParkedRow = { job: "job-1", field: "input", issue: "Expected string, got 1", at: T0 + 7 }

const claimOne = (snapshot: Snapshot, owner: string) =>
  Effect.gen(function*() {
    const store = yield* DeploymentStore
    return yield* store.claim({ owner, now: CLAIM_AT, leaseTtlMillis: TTL, limit: 10, runnable: [runnableOf(snapshot)] })
  })

/** Parks a deployment the way the runtime does: the reason, and the lease given up. */
const park = (snapshot: Snapshot, parked: ParkedRow = parkedRow) =>
  Effect.gen(function*() {
    const store = yield* DeploymentStore
    return yield* store.checkpoint({
      fence: fenceOf(snapshot),
      at: T0 + 7,
      deployment: { parked, releaseLease: true },
      jobs: [],
      errors: []
    })
  })

/** Resume counts and parked deployments: counted claims, parking, never claimed, left out, not stopped. */
export const resumeTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("resumes and parked deployments", () => {
    resumeCountAndParkTests(it, helpers)
    parkedLeftOutTests(it, helpers)
  })
}

const resumeCountAndParkTests = (it: SuiteIt, { created, createdExpired, get }: Helpers): void => {
  it.effect("counts every claim in resumes, and bumps the epoch each time", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* createdExpired(makeSnapshot())
      const first = yield* claimOne(snapshot, "owner-b")
      assert.deepStrictEqual(first.map((s) => [s.deployment.resumes, s.deployment.leaseEpoch]), [[1, 2]])
      yield* store.release({ deploymentId: snapshot.deployment.id, owner: "owner-b", epoch: 2 }, T0 + 1)
      const second = yield* claimOne(snapshot, "owner-c")
      assert.deepStrictEqual(second.map((s) => [s.deployment.resumes, s.deployment.leaseEpoch]), [[2, 3]])
      assert.strictEqual((yield* get(snapshot.deployment.id)).deployment.resumes, 2)
    }))

  it.effect("a checkpoint sets resumes, and leaves it as it is when absent", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* createdExpired(makeSnapshot())
      yield* claimOne(snapshot, "owner-b")
      const fence = { deploymentId: snapshot.deployment.id, owner: "owner-b", epoch: 2 }
      yield* store.checkpoint({ fence, at: T0 + 1, deployment: { currentJob: 1 }, jobs: [], errors: [] })
      assert.strictEqual((yield* get(snapshot.deployment.id)).deployment.resumes, 1)
      yield* store.checkpoint({ fence, at: T0 + 2, deployment: { resumes: 0 }, jobs: [], errors: [] })
      assert.strictEqual((yield* get(snapshot.deployment.id)).deployment.resumes, 0)
    }))

  it.effect("a checkpoint parks a deployment: get and status show why, and it keeps its status", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot())
      yield* park(snapshot)
      const read = (yield* get(snapshot.deployment.id)).deployment
      assert.deepStrictEqual(read.parked, parkedRow)
      assert.strictEqual(read.status, "running")
      assert.strictEqual(read.owner, undefined)
      const status = yield* store.status(snapshot.deployment.id)
      assert.deepStrictEqual(status._tag === "Some" ? status.value.parked : undefined, parkedRow)
      // a parked row without a job keeps the job absent
      const other = yield* created(makeSnapshot())
      yield* park(other, { field: "state", issue: "bad", at: T0 + 8 })
      assert.deepStrictEqual((yield* get(other.deployment.id)).deployment.parked, { field: "state", issue: "bad", at: T0 + 8 })
    }))

  it.effect("never claims a parked deployment, running or rolling back, however long ago its lease ended", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const application = `app-${crypto.randomUUID()}`
      const running = yield* createdExpired(makeSnapshot({ application }))
      const rollingBack = yield* createdExpired(makeSnapshot({ application }))
      const runnable = yield* createdExpired(makeSnapshot({ application }))
      yield* store.checkpoint({
        fence: fenceOf(rollingBack),
        at: T0 + 1,
        deployment: { status: "rolling_back" },
        jobs: [],
        errors: []
      })
      yield* park(running)
      yield* park(rollingBack)
      const claimed = yield* store.claim({
        owner: "owner-b",
        now: CLAIM_AT * 2,
        leaseTtlMillis: TTL,
        limit: 10,
        runnable: [runnableOf(running)]
      })
      assert.deepStrictEqual(claimed.map((s) => s.deployment.id), [runnable.deployment.id])
      for (const parked of [running, rollingBack]) {
        const row = (yield* get(parked.deployment.id)).deployment
        assert.strictEqual(row.leaseEpoch, 1)
        assert.strictEqual(row.resumes, 0)
      }
    }))
}

const parkedLeftOutTests = (it: SuiteIt, { created, createdExpired, get }: Helpers): void => {
  it.effect("findMismatched leaves parked deployments out", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const application = `app-${crypto.randomUUID()}`
      const mismatched = yield* createdExpired(makeSnapshot({ application, fingerprint: "[\"v1\"]" }))
      const parked = yield* createdExpired(makeSnapshot({ application, fingerprint: "[\"v1\"]" }))
      yield* park(parked)
      const found = yield* store.findMismatched({
        now: CLAIM_AT,
        limit: 10,
        runnable: [{ application, action: "provision", fingerprint: "[\"v2\"]" }]
      })
      assert.deepStrictEqual(found.map((row) => row.id), [mismatched.deployment.id])
    }))

  it.effect("requestStop of a parked deployment returns Parked with why, and flags nothing", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot())
      yield* park(snapshot)
      const result = yield* store.requestStop(snapshot.deployment.id, T0 + 9)
      assert.deepStrictEqual(result, { _tag: "Parked", parked: parkedRow })
      const read = (yield* get(snapshot.deployment.id)).deployment
      assert.isFalse(read.stopRequested)
      assert.strictEqual(read.updatedAt, T0 + 7)
    }))
}
