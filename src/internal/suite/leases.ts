/**
 * Conformance tests: leases. `claim` hands an expired lease of a runnable definition to exactly one caller and
 * bumps its epoch, never a finished deployment; `heartbeat` renews the owner's listed leases; `release` gives a lease
 * up; deployments of another fingerprint are found, and version reports are appended once.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect } from "effect"
import { DeploymentStore, type Snapshot } from "../../DeploymentStore.ts"
import {
  assertSameRow,
  CLAIM_AT,
  errorOf,
  fenceOf,
  type Helpers,
  makeSnapshot,
  runnableOf,
  type SuiteIt,
  T0,
  TTL
} from "./fixtures.ts"

/** Leases: claims (one winner, only expired, never finished), heartbeats, releases. */
export const leaseTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("leases", () => {
    claimTests(it, helpers)
    claimRenewReleaseTests(it, helpers)
  })
}

const claimTests = (it: SuiteIt, { createdExpired, createdLive, get, ownClock }: Helpers): void => {
  it.effect("claims only expired leases of runnable definitions, and bumps the epoch", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const application = `app-${crypto.randomUUID()}`
      const expired = yield* createdExpired(makeSnapshot({ application, at: T0 }))
      const fresh = yield* createdLive(makeSnapshot({ application, at: T0 + TTL }))
      const otherVersion = yield* createdExpired(makeSnapshot({ application, at: T0, fingerprint: "[\"other\"]" }))
      const before = (yield* get(expired.deployment.id)).deployment.leaseExpiresAt
      const claimed = yield* store.claim({
        owner: "owner-b",
        now: CLAIM_AT,
        leaseTtlMillis: TTL,
        limit: 10,
        runnable: [runnableOf(expired)]
      })
      assert.deepStrictEqual(claimed.map((s) => s.deployment.id), [expired.deployment.id])
      const row = claimed[0]!.deployment
      assert.strictEqual(row.owner, "owner-b")
      assert.strictEqual(row.leaseEpoch, 2)
      if (ownClock) assert.isAbove(row.leaseExpiresAt!, before!)
      else assert.strictEqual(row.leaseExpiresAt, CLAIM_AT + TTL)
      assertSameRow(claimed[0]!.jobs, expired.jobs)
      assert.strictEqual((yield* get(fresh.deployment.id)).deployment.owner, "owner-a")
      assert.strictEqual((yield* get(otherVersion.deployment.id)).deployment.leaseEpoch, 1)
      const stale = yield* Effect.flip(store.checkpoint({ fence: fenceOf(expired), at: T0, deployment: {}, jobs: [], errors: [] }))
      assert.strictEqual(stale._tag, "LeaseLost")
    }))

  it.effect("never hands one deployment to two concurrent claimers", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const application = `app-${crypto.randomUUID()}`
      const snapshots: Array<Snapshot> = []
      for (let i = 0; i < 20; i++) snapshots.push(yield* createdExpired(makeSnapshot({ application })))
      const runnable = [runnableOf(snapshots[0]!)]
      const results = yield* Effect.all(
        Array.from({ length: 6 }, (_, i) =>
          store.claim({ owner: `claimer-${i}`, now: CLAIM_AT, leaseTtlMillis: TTL, limit: 5, runnable })),
        { concurrency: "unbounded" }
      )
      const ids = results.flatMap((claimed) => claimed.map((s) => s.deployment.id))
      assert.strictEqual(ids.length, 20)
      assert.strictEqual(new Set(ids).size, 20)
      for (const claimed of results) assert.isAtMost(claimed.length, 5)
    }))

  it.effect("never claims finished deployments", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* createdExpired(makeSnapshot())
      yield* store.checkpoint({
        fence: fenceOf(snapshot),
        at: T0 + 1,
        deployment: { status: "rolled_back", releaseLease: true },
        jobs: [],
        errors: []
      })
      const claimed = yield* store.claim({
        owner: "owner-b",
        now: CLAIM_AT,
        leaseTtlMillis: TTL,
        limit: 10,
        runnable: [runnableOf(snapshot)]
      })
      assert.deepStrictEqual(claimed, [])
    }))
}

const claimRenewReleaseTests = (it: SuiteIt, { created, createdExpired, get, ownClock }: Helpers): void => {
  it.effect("claims rolling back deployments too", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* createdExpired(makeSnapshot())
      yield* store.checkpoint({ fence: fenceOf(snapshot), at: T0 + 1, deployment: { status: "rolling_back" }, jobs: [], errors: [] })
      const claimed = yield* store.claim({
        owner: "owner-b",
        now: CLAIM_AT,
        leaseTtlMillis: TTL,
        limit: 10,
        runnable: [runnableOf(snapshot)]
      })
      assert.deepStrictEqual(claimed.map((s) => s.deployment.status), ["rolling_back"])
    }))

  it.effect("heartbeat renews the listed active leases of the owner only", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const owner = `owner-${crypto.randomUUID()}`
      const active = yield* created(makeSnapshot({ owner }))
      const notListed = yield* created(makeSnapshot({ owner }))
      const finished = yield* created(makeSnapshot({ owner }))
      const someoneElse = yield* created(makeSnapshot())
      yield* store.checkpoint({
        fence: fenceOf(finished),
        at: T0 + 1,
        deployment: { status: "succeeded" },
        jobs: [],
        errors: []
      })
      const activeBefore = (yield* get(active.deployment.id)).deployment.leaseExpiresAt!
      const notListedBefore = (yield* get(notListed.deployment.id)).deployment.leaseExpiresAt!
      const someoneElseBefore = (yield* get(someoneElse.deployment.id)).deployment.leaseExpiresAt!
      const held = yield* store.heartbeat({
        owner,
        now: T0 + 1000,
        leaseTtlMillis: TTL,
        deploymentIds: [active.deployment.id, finished.deployment.id, someoneElse.deployment.id, "not-an-id"]
      })
      assert.deepStrictEqual(held, [{ deploymentId: active.deployment.id, epoch: 1, stopRequested: false }])
      const expiry = (id: string) => Effect.map(get(id), (read) => read.deployment.leaseExpiresAt!)
      const renewed = yield* expiry(active.deployment.id)
      if (ownClock) assert.isAtLeast(renewed, activeBefore)
      else assert.strictEqual(renewed, T0 + 1000 + TTL)
      assert.strictEqual(yield* expiry(notListed.deployment.id), notListedBefore)
      assert.strictEqual(yield* expiry(someoneElse.deployment.id), someoneElseBefore)
      assert.deepStrictEqual(yield* store.heartbeat({ owner, now: T0, leaseTtlMillis: TTL, deploymentIds: [] }), [])
    }))

  it.effect("release gives the lease up so another process claims it at once; a stale release does nothing", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot())
      yield* store.release(fenceOf(snapshot, { epoch: 5 }), T0 + 1)
      assert.strictEqual((yield* get(snapshot.deployment.id)).deployment.owner, "owner-a")
      yield* store.release(fenceOf(snapshot), T0 + 1)
      const read = yield* get(snapshot.deployment.id)
      assert.strictEqual(read.deployment.owner, undefined)
      assert.strictEqual(read.deployment.status, "running")
      const claimed = yield* store.claim({
        owner: "owner-b",
        now: T0 + 2,
        leaseTtlMillis: TTL,
        limit: 10,
        runnable: [runnableOf(snapshot)]
      })
      assert.deepStrictEqual(claimed.map((s) => s.deployment.id), [snapshot.deployment.id])
    }))
}

/** Versions: deployments started under another fingerprint, and reports appended once. */
export const versionTests = (it: SuiteIt, { created, createdExpired, createdLive }: Helpers): void => {
  describe("versions", () => {
    it.effect("finds expired deployments of a runnable action started under another fingerprint", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const application = `app-${crypto.randomUUID()}`
        const old = yield* createdExpired(makeSnapshot({ application, fingerprint: "[\"v1\"]" }))
        yield* createdExpired(makeSnapshot({ application, fingerprint: "[\"v2\"]" }))
        const leased = yield* createdLive(makeSnapshot({ application, fingerprint: "[\"v1\"]", at: T0 + TTL }))
        yield* createdExpired(makeSnapshot({ application, action: "other", fingerprint: "[\"v1\"]" }))
        const found = yield* store.findMismatched({
          now: CLAIM_AT,
          limit: 10,
          runnable: [{ application, action: "provision", fingerprint: "[\"v2\"]" }]
        })
        assert.deepStrictEqual(found.map((row) => row.id), [old.deployment.id])
        assert.notInclude(found.map((row) => row.id), leased.deployment.id)
      }))

    it.effect("appendErrorOnce appends a report once, without a lease", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const snapshot = yield* created(makeSnapshot())
        const report = { ...errorOf("job-0", "definition changed"), job: undefined }
        assert.isTrue(yield* store.appendErrorOnce(snapshot.deployment.id, report))
        assert.isFalse(yield* store.appendErrorOnce(snapshot.deployment.id, { ...report, at: T0 + 5 }))
        assert.isTrue(yield* store.appendErrorOnce(snapshot.deployment.id, { ...report, message: "another" }))
        assert.isFalse(yield* store.appendErrorOnce(crypto.randomUUID(), report))
        const errors = yield* store.errors(snapshot.deployment.id)
        assert.deepStrictEqual(errors.map((e) => e.message), ["definition changed", "another"])
      }))
  })
}
