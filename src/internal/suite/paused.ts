/**
 * Conformance tests: the `paused` status and the row fields of the 0.3 contract. A paused deployment holds no lease
 * and is never claimed, renewed, reported as mismatched, stopped or pruned; `null` in a checkpoint clears a failure
 * and a job's finish time; `create` stores `restartOf` and a request; `list` filters by creation time (before
 * exclusive, after inclusive) with the other filters and pages within the range.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DeploymentStore, type Snapshot } from "../../DeploymentStore.ts"
import {
  assertSameRow,
  CLAIM_AT,
  createOptions,
  failureRow,
  fenceOf,
  type Helpers,
  makeSnapshot,
  requestOf,
  runnableOf,
  type SuiteIt,
  T0,
  TTL
} from "./fixtures.ts"

/** Far before the other parts' times, so that only this part's deployments are old enough to prune. */
const OLD = 900_000_000_000

export const pausedTests = (it: SuiteIt, helpers: Helpers): void => {
  pausedDeploymentTests(it, helpers)
  clearingPatchTests(it, helpers)
  restartAndCreationTimeTests(it, helpers)
}

/** A paused deployment holds no lease and is never claimed, renewed, reported as mismatched, stopped or pruned. */
const pausedDeploymentTests = (it: SuiteIt, { created, get, paused }: Helpers): void => {
  describe("paused deployments", () => {
    it.effect("are stored as paused without a lease: never claimed, renewed, or reported as mismatched", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const snapshot = yield* paused()
        const read = yield* get(snapshot.deployment.id)
        assert.strictEqual(read.deployment.status, "paused")
        assert.strictEqual(read.deployment.owner, undefined)
        assert.strictEqual(read.deployment.leaseExpiresAt, undefined)
        assertSameRow(read.deployment.failure, failureRow)
        const claimed = yield* store.claim({
          owner: "owner-b",
          now: CLAIM_AT,
          leaseTtlMillis: TTL,
          limit: 10,
          runnable: [runnableOf(snapshot)]
        })
        assert.deepStrictEqual(claimed, [])
        const held = yield* store.heartbeat({
          owner: "owner-a",
          now: CLAIM_AT,
          leaseTtlMillis: TTL,
          deploymentIds: [snapshot.deployment.id]
        })
        assert.deepStrictEqual(held, [])
        const mismatched = yield* store.findMismatched({
          now: CLAIM_AT,
          limit: 10,
          runnable: [{ ...runnableOf(snapshot), fingerprint: "[\"other\"]" }]
        })
        assert.deepStrictEqual(mismatched, [])
        assert.deepStrictEqual(yield* store.requestStop(snapshot.deployment.id, T0 + 6), {
          _tag: "NotRunning",
          status: "paused"
        })
      }))

    it.effect("a pause over a stop flag records its stop request; without the flag, or with a request pending, none", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const pauseOf = (snapshot: Snapshot, stopRequest: ReturnType<typeof requestOf>) =>
          store.checkpoint({
            fence: fenceOf(snapshot),
            at: T0 + 5,
            deployment: { status: "paused", failure: failureRow, releaseLease: true, stopRequest },
            jobs: [{ index: 0, status: "failed", finishedAt: T0 + 5 }],
            errors: []
          })
        // a stop asked while the failure was being paused: the flag is set, then the pause is written
        const stopped = yield* created(makeSnapshot())
        assert.strictEqual((yield* store.requestStop(stopped.deployment.id, T0 + 4))._tag, "Requested")
        const request = requestOf("stop", T0 + 5)
        assert.isTrue((yield* pauseOf(stopped, request)).stopRequested)
        const read = yield* get(stopped.deployment.id)
        assert.strictEqual(read.deployment.status, "paused")
        assertSameRow(read.deployment.request, request)
        // no stop asked: the request is not recorded
        const plain = yield* created(makeSnapshot())
        assert.isFalse((yield* pauseOf(plain, requestOf("stop", T0 + 5))).stopRequested)
        assert.strictEqual((yield* get(plain.deployment.id)).deployment.request, undefined)
        // a pending request is kept
        const pending = requestOf("retry", T0 + 3)
        const base = makeSnapshot()
        const withRequest = yield* created({ ...base, deployment: { ...base.deployment, request: pending } })
        assert.strictEqual((yield* store.requestStop(withRequest.deployment.id, T0 + 4))._tag, "Requested")
        yield* pauseOf(withRequest, requestOf("stop", T0 + 5))
        assertSameRow((yield* get(withRequest.deployment.id)).deployment.request, pending)
      }))

    it.effect("are never pruned, however old; finished ones as old are", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const old = yield* paused(makeSnapshot({ at: OLD }), OLD + 1)
        const finished = yield* created(makeSnapshot({ at: OLD }))
        yield* store.checkpoint({
          fence: fenceOf(finished),
          at: OLD + 1,
          deployment: { status: "rollback_failed", failure: failureRow, releaseLease: true },
          jobs: [],
          errors: []
        })
        assert.isAtLeast(yield* store.prune(OLD + 1_000_000, 1_000), 1)
        assert.isTrue(Option.isSome(yield* store.get(old.deployment.id)))
        assert.isTrue(Option.isNone(yield* store.get(finished.deployment.id)))
      }))
  })
}

/** `null` in a checkpoint clears a failure and a job's finish time. */
const clearingPatchTests = (it: SuiteIt, { created, get }: Helpers): void => {
  describe("patches that clear", () => {
    it.effect("a checkpoint clears the failure with null and a job's finish time with null; absent leaves them", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const snapshot = yield* created(makeSnapshot())
        const fence = fenceOf(snapshot)
        yield* store.checkpoint({
          fence,
          at: T0 + 1,
          deployment: { failure: failureRow },
          jobs: [{ index: 0, status: "failed", finishedAt: T0 + 1 }, { index: 1, status: "succeeded", finishedAt: T0 + 1 }],
          errors: []
        })
        yield* store.checkpoint({ fence, at: T0 + 2, deployment: {}, jobs: [{ index: 0, status: "failed" }], errors: [] })
        const kept = yield* get(snapshot.deployment.id)
        assertSameRow(kept.deployment.failure, failureRow)
        assert.strictEqual(kept.jobs[0]!.finishedAt, T0 + 1)
        yield* store.checkpoint({
          fence,
          at: T0 + 3,
          deployment: { failure: null },
          jobs: [{ index: 0, status: "running", finishedAt: null }],
          errors: []
        })
        const cleared = yield* get(snapshot.deployment.id)
        assert.strictEqual(cleared.deployment.failure, undefined)
        assert.strictEqual(cleared.jobs[0]!.finishedAt, undefined)
        assert.strictEqual(cleared.jobs[0]!.status, "running")
        assert.strictEqual(cleared.jobs[1]!.finishedAt, T0 + 1)
        assert.strictEqual(cleared.deployment.updatedAt, T0 + 3)
      }))
  })
}

/** `create` stores `restartOf` and a request; `list` filters by creation time and pages within the range. */
const restartAndCreationTimeTests = (it: SuiteIt, { assertSameStored, created, get, paused }: Helpers): void => {
  describe("restarts and list by creation time", () => {
    it.effect("create stores restartOf and a request, which get and list read back", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const original = yield* paused()
        const base = makeSnapshot()
        const request = requestOf("stop")
        const restart: Snapshot = {
          ...base,
          deployment: { ...base.deployment, restartOf: original.deployment.id, request }
        }
        assert.strictEqual((yield* store.create(restart, createOptions))._tag, "Created")
        assertSameStored(yield* get(restart.deployment.id), restart)
        const page = yield* store.list({ application: restart.deployment.application, limit: 10 })
        assert.strictEqual(page.items[0]!.restartOf, original.deployment.id)
        assertSameRow(page.items[0]!.request, request)
      }))

    it.effect("list filters by created time: before is exclusive, after inclusive, with the other filters", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const application = `app-${crypto.randomUUID()}`
        const ids: Array<string> = []
        for (let i = 0; i < 6; i++) {
          const snapshot = makeSnapshot({ application, action: i % 2 === 0 ? "even" : "odd", at: T0 + i })
          if (i === 3) yield* paused(snapshot)
          else yield* created(snapshot)
          ids.push(snapshot.deployment.id)
        }
        const list = (query: Omit<Parameters<typeof store.list>[0], "limit" | "application">, limit = 10) =>
          Effect.map(store.list({ application, limit, ...query }), (page) => page.items.map((row) => ids.indexOf(row.id)))
        assert.deepStrictEqual(yield* list({ createdBefore: T0 + 3 }), [2, 1, 0])
        assert.deepStrictEqual(yield* list({ createdAfter: T0 + 3 }), [5, 4, 3])
        assert.deepStrictEqual(yield* list({ createdAfter: T0 + 1, createdBefore: T0 + 4 }), [3, 2, 1])
        assert.deepStrictEqual(yield* list({ createdAfter: T0 + 4, createdBefore: T0 + 4 }), [])
        assert.deepStrictEqual(yield* list({ createdAfter: T0 + 1, createdBefore: T0 + 5, action: "even" }), [4, 2])
        assert.deepStrictEqual(yield* list({ createdAfter: T0 + 1, statuses: ["paused"] }), [3])
        assert.deepStrictEqual(yield* list({ createdBefore: T0 + 3, statuses: ["paused"] }), [])
        assert.deepStrictEqual(
          yield* list({ createdBefore: T0 + 5, statuses: ["running", "paused"], action: "odd" }),
          [3, 1]
        )
        // pages within a range
        const first = yield* store.list({ application, createdAfter: T0 + 1, createdBefore: T0 + 5, limit: 2 })
        assert.deepStrictEqual(first.items.map((row) => ids.indexOf(row.id)), [4, 3])
        const second = yield* store.list({
          application,
          createdAfter: T0 + 1,
          createdBefore: T0 + 5,
          limit: 2,
          ...(first.next === undefined ? {} : { cursor: first.next })
        })
        assert.deepStrictEqual(second.items.map((row) => ids.indexOf(row.id)), [2, 1])
        assert.strictEqual(second.next, undefined)
      }))
  })
}
