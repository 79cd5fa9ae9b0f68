/**
 * Conformance tests: `takeOver` is a compare-and-set (status, lease epoch, not parked, pending request) that makes
 * the caller the lease holder with the next epoch, exactly once under concurrency, and writes nothing when it does not
 * apply.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect } from "effect"
import { DeploymentStore, type TakeOver } from "../../DeploymentStore.ts"
import {
  assertSameRow,
  CLAIM_AT,
  entryOf,
  errorOf,
  failureRow,
  fenceOf,
  type Helpers,
  makeSnapshot,
  requestOf,
  type SuiteIt,
  T0,
  TTL
} from "./fixtures.ts"
import { expectTakenOver, parkedRow, takeOverOf, unchangedIn } from "./operationFixtures.ts"

/** `takeOver`: a compare-and-set that makes the caller the lease holder with the next epoch, exactly once. */
export const takeOverTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("takeOver", () => {
    takeOverAppliesTests(it, helpers)
    takeOverRollbackAndChangedTests(it, helpers)
    takeOverParkedAndConcurrentTests(it, helpers)
  })
}

const takeOverAppliesTests = (it: SuiteIt, { created, get, ownClock }: Helpers): void => {
  it.effect("applies the patches, makes the caller the lease holder with the next epoch, resets the rest", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = makeSnapshot()
      yield* created(snapshot)
      yield* store.requestStop(snapshot.deployment.id, T0 + 2)
      yield* store.checkpoint({
        fence: fenceOf(snapshot),
        at: T0 + 5,
        deployment: { status: "paused", failure: failureRow, resumes: 2, state: { count: 3 }, releaseLease: true },
        jobs: [{ index: 0, status: "failed", finishedAt: T0 + 5 }],
        errors: [errorOf("job-0", "failed")]
      })
      const before = yield* get(snapshot.deployment.id)
      assert.isTrue(before.deployment.stopRequested)
      const history = entryOf("retry", "done", { job: "job-0", reason: "fixed", detail: { input: { n: 1 } } })
      const taken = expectTakenOver(
        yield* store.takeOver(takeOverOf(snapshot, {
          deployment: { status: "running", failure: null, state: { count: 4 } },
          jobs: [{ index: 0, status: "running", input: { n: 1 }, attempts: 2, startedAt: T0 + 50, finishedAt: null }],
          errors: [errorOf("job-0", "retried", T0 + 50)],
          history
        }))
      )
      const row = taken.deployment
      assert.strictEqual(row.status, "running")
      assert.strictEqual(row.owner, "operator-x")
      assert.strictEqual(row.leaseEpoch, 2)
      if (ownClock) assert.isDefined(row.leaseExpiresAt)
      else assert.strictEqual(row.leaseExpiresAt, CLAIM_AT + TTL)
      assert.strictEqual(row.resumes, 0)
      assert.isFalse(row.stopRequested)
      assert.strictEqual(row.failure, undefined)
      assert.strictEqual(row.request, undefined)
      assert.deepStrictEqual(row.state, { count: 4 })
      assert.strictEqual(row.updatedAt, T0 + 50)
      assertSameRow(taken.jobs, [
        { ...before.jobs[0]!, status: "running", input: { n: 1 }, attempts: 2, startedAt: T0 + 50, finishedAt: undefined },
        before.jobs[1],
        before.jobs[2]
      ])
      // what it returned is what is stored
      assertSameRow(yield* get(snapshot.deployment.id), taken)
      assert.deepStrictEqual((yield* store.errors(snapshot.deployment.id)).map((e) => e.message), ["failed", "retried"])
      const recorded = yield* store.history(snapshot.deployment.id)
      assert.strictEqual(recorded.length, 1)
      assertSameRow(recorded[0], { ...history, sequence: recorded[0]!.sequence })
      // the new holder's fence writes; the old one's is refused
      const stale = yield* Effect.flip(
        store.checkpoint({ fence: fenceOf(snapshot), at: T0 + 51, deployment: {}, jobs: [], errors: [] })
      )
      assert.strictEqual(stale._tag, "LeaseLost")
      const fence = { deploymentId: snapshot.deployment.id, owner: "operator-x", epoch: 2 }
      yield* store.checkpoint({ fence, at: T0 + 52, deployment: { currentJob: 1 }, jobs: [], errors: [] })
      const held = yield* store.heartbeat({
        owner: "operator-x",
        now: CLAIM_AT,
        leaseTtlMillis: TTL,
        deploymentIds: [snapshot.deployment.id]
      })
      assert.deepStrictEqual(held, [{ deploymentId: snapshot.deployment.id, epoch: 2, stopRequested: false }])
    }))
}

const takeOverRollbackAndChangedTests = (it: SuiteIt, { assertSameStored, created, get, paused }: Helpers): void => {
  const unchanged = unchangedIn({ assertSameStored, get })
  it.effect("takes a rollback_failed deployment to rolling_back (a retried rollback)", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot())
      yield* store.checkpoint({
        fence: fenceOf(snapshot),
        at: T0 + 5,
        deployment: { status: "rollback_failed", failure: failureRow, releaseLease: true },
        jobs: [{ index: 0, status: "rollback_failed", finishedAt: T0 + 5 }],
        errors: []
      })
      const taken = expectTakenOver(yield* store.takeOver(takeOverOf(snapshot, {
        expect: { status: "rollback_failed", leaseEpoch: 1 },
        deployment: { status: "rolling_back" },
        jobs: [{ index: 0, status: "succeeded" }],
        history: entryOf("retry_rollback", "done")
      })))
      assert.strictEqual(taken.deployment.status, "rolling_back")
      assertSameRow(taken.deployment.failure, failureRow)
      assert.strictEqual(taken.jobs[0]!.status, "succeeded")
      assert.strictEqual(taken.jobs[0]!.finishedAt, T0 + 5)
      assert.strictEqual(taken.deployment.leaseEpoch, 2)
    }))

  it.effect("writes nothing and answers Changed with the row when status, epoch or request differ, or it is parked", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* paused()
      const before = yield* get(snapshot.deployment.id)
      const refusals: ReadonlyArray<TakeOver["expect"]> = [
        { status: "rollback_failed", leaseEpoch: 1 },
        { status: "running", leaseEpoch: 1 },
        { status: "paused", leaseEpoch: 0 },
        { status: "paused", leaseEpoch: 2 },
        { status: "paused", leaseEpoch: 1, requestId: "no-such-request" }
      ]
      for (const expect of refusals) {
        const result = yield* store.takeOver(takeOverOf(snapshot, { expect, errors: [errorOf("job-0", "must not")] }))
        assert.strictEqual(result._tag, "Changed", JSON.stringify(expect))
        if (result._tag === "Changed") assertSameStored({ ...before, deployment: result.deployment }, before)
        yield* unchanged(before, 0)
      }
      // a pending request: only a takeover naming it applies
      const request = requestOf("retry")
      assert.deepStrictEqual(
        yield* store.requestOperation({
          deploymentId: snapshot.deployment.id,
          request,
          statuses: ["paused"],
          history: entryOf("retry", "requested")
        }),
        { _tag: "Requested" }
      )
      const requested = yield* get(snapshot.deployment.id)
      for (const requestId of [undefined, "another-request"]) {
        const expect: TakeOver["expect"] = requestId === undefined
          ? { status: "paused", leaseEpoch: 1 }
          : { status: "paused", leaseEpoch: 1, requestId }
        const result = yield* store.takeOver(takeOverOf(snapshot, { expect }))
        assert.strictEqual(result._tag, "Changed", `request ${requestId}`)
        yield* unchanged(requested, 1)
      }
      const taken = expectTakenOver(
        yield* store.takeOver(takeOverOf(snapshot, { expect: { status: "paused", leaseEpoch: 1, requestId: request.id } }))
      )
      assert.strictEqual(taken.deployment.request, undefined)
      assert.strictEqual((yield* store.history(snapshot.deployment.id)).length, 2)
    }))
}

const takeOverParkedAndConcurrentTests = (it: SuiteIt, { assertSameStored, created, get, paused }: Helpers): void => {
  const unchanged = unchangedIn({ assertSameStored, get })
  it.effect("refuses a parked deployment (Changed), and answers NotFound for an unknown one", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot())
      yield* store.checkpoint({
        fence: fenceOf(snapshot),
        at: T0 + 6,
        deployment: { status: "paused", failure: failureRow, parked: parkedRow, releaseLease: true },
        jobs: [],
        errors: [errorOf("job-0", "failed")]
      })
      const before = yield* get(snapshot.deployment.id)
      const result = yield* store.takeOver(takeOverOf(snapshot))
      assert.strictEqual(result._tag, "Changed")
      if (result._tag === "Changed") assertSameRow(result.deployment.parked, parkedRow)
      yield* unchanged(before, 0)
      const unknown = makeSnapshot()
      assert.deepStrictEqual(yield* store.takeOver(takeOverOf(unknown)), { _tag: "NotFound" })
      const notAnId = { ...unknown, deployment: { ...unknown.deployment, id: "not-an-id" } }
      assert.deepStrictEqual(yield* store.takeOver(takeOverOf(notAnId)), { _tag: "NotFound" })
    }))

  it.effect("hands a deployment to exactly one of several concurrent takeovers", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      for (let round = 0; round < 5; round++) {
        const snapshot = yield* paused()
        const results = yield* Effect.all(
          Array.from({ length: 4 }, (_, i) =>
            store.takeOver(takeOverOf(snapshot, {
              owner: `contender-${i}`,
              history: entryOf("retry", "done", { by: `contender-${i}` })
            }))),
          { concurrency: "unbounded" }
        )
        const winners = results.flatMap((result, i) => result._tag === "TakenOver" ? [i] : [])
        assert.strictEqual(winners.length, 1, `round ${round}: ${results.map((r) => r._tag).join(", ")}`)
        const winner = `contender-${winners[0]}`
        for (const result of results) {
          if (result._tag === "Changed") {
            assert.strictEqual(result.deployment.owner, winner)
            assert.strictEqual(result.deployment.leaseEpoch, 2)
          } else assert.strictEqual(result._tag, "TakenOver")
        }
        const read = yield* get(snapshot.deployment.id)
        assert.strictEqual(read.deployment.owner, winner)
        assert.strictEqual(read.deployment.leaseEpoch, 2)
        assert.deepStrictEqual((yield* store.history(snapshot.deployment.id)).map((entry) => entry.by), [winner])
      }
    }))
}
