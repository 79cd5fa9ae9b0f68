/**
 * Conformance tests: `prune` deletes at most `limit` finished deployments per call, so that a caller deletes a
 * backlog in bounded steps, and never an active or parked one.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DeploymentStore, type Snapshot } from "../../DeploymentStore.ts"
import {
  createOptions,
  entryOf,
  errorOf,
  fenceOf,
  type Helpers,
  makeSnapshot,
  requestOf,
  type SuiteIt,
  T0
} from "./fixtures.ts"

/** Times far before any other test's, so that only this part's deployments are old enough to prune. */
const LONG_AGO = 1_000_000_000_000
const CUTOFF = LONG_AGO + 1_000_000

export const pruneTests = (it: SuiteIt, { created }: Helpers): void => {
  const finish = (snapshot: Snapshot, status: "succeeded" | "rolled_back" | "rollback_failed") =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      yield* store.checkpoint({
        fence: fenceOf(snapshot),
        at: LONG_AGO + 1,
        deployment: { status, releaseLease: true },
        jobs: [],
        errors: []
      })
    })

  describe("prune, bounded", () => {
    it.effect("deletes at most limit deployments per call, until none is left", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const statuses = ["succeeded", "rolled_back", "rollback_failed", "succeeded", "rolled_back"] as const
        const old: Array<Snapshot> = []
        for (const status of statuses) {
          const snapshot = yield* created(makeSnapshot({ at: LONG_AGO }))
          yield* finish(snapshot, status)
          old.push(snapshot)
        }
        // a store need not be empty: a backlog of at least these five, deleted two at a time
        const counts: Array<number> = []
        for (let call = 0; call < 1_000; call++) {
          const pruned = yield* store.prune(CUTOFF, 2)
          counts.push(pruned)
          assert.isAtMost(pruned, 2)
          if (pruned < 2) break
        }
        assert.strictEqual(counts[0], 2)
        assert.strictEqual(counts[1], 2)
        assert.isAtLeast(counts.reduce((a, b) => a + b, 0), 5)
        assert.isBelow(counts[counts.length - 1]!, 2)
        for (const snapshot of old) assert.isTrue(Option.isNone(yield* store.get(snapshot.deployment.id)))
        assert.strictEqual(yield* store.prune(CUTOFF, 2), 0)
      }))

    it.effect("never deletes an active or a parked deployment, however old", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const running = yield* created(makeSnapshot({ at: LONG_AGO }))
        const rollingBack = yield* created(makeSnapshot({ at: LONG_AGO }))
        yield* store.checkpoint({
          fence: fenceOf(rollingBack),
          at: LONG_AGO + 1,
          deployment: { status: "rolling_back" },
          jobs: [],
          errors: []
        })
        const parked = yield* created(makeSnapshot({ at: LONG_AGO }))
        yield* store.checkpoint({
          fence: fenceOf(parked),
          at: LONG_AGO + 1,
          deployment: { parked: { field: "state", issue: "bad", at: LONG_AGO + 1 }, releaseLease: true },
          jobs: [],
          errors: []
        })
        assert.strictEqual(yield* store.prune(CUTOFF, 100), 0)
        for (const snapshot of [running, rollingBack, parked]) {
          assert.isTrue(Option.isSome(yield* store.get(snapshot.deployment.id)))
        }
      }))

    it.effect("never deletes a finished deployment with a pending request, however old; once it is carried out, it may", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const snapshot = yield* created(makeSnapshot({ at: LONG_AGO }))
        yield* finish(snapshot, "rollback_failed")
        const request = requestOf("retry_rollback", LONG_AGO + 2)
        const requested = yield* store.requestOperation({
          deploymentId: snapshot.deployment.id,
          statuses: ["rollback_failed"],
          request,
          history: entryOf("retry_rollback", "requested", { at: LONG_AGO + 2 })
        })
        assert.strictEqual(requested._tag, "Requested")
        assert.strictEqual(yield* store.prune(CUTOFF, 100), 0)
        assert.isTrue(Option.isSome(yield* store.get(snapshot.deployment.id)), "kept while the request waits")
        // refused (or carried out elsewhere): the request is cleared, and the deployment may go
        yield* store.recordOperation(
          snapshot.deployment.id,
          entryOf("retry_rollback", "refused", { at: LONG_AGO + 3 }),
          request.id
        )
        assert.isAtLeast(yield* store.prune(CUTOFF, 100), 1)
        assert.isTrue(Option.isNone(yield* store.get(snapshot.deployment.id)))
      }))

    it.effect("deletes nothing for a limit below 1", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const snapshot = yield* created(makeSnapshot({ at: LONG_AGO }))
        yield* finish(snapshot, "succeeded")
        assert.strictEqual(yield* store.prune(CUTOFF, 0), 0)
        assert.isTrue(Option.isSome(yield* store.get(snapshot.deployment.id)))
        assert.isAtLeast(yield* store.prune(CUTOFF, 10), 1)
        assert.isTrue(Option.isNone(yield* store.get(snapshot.deployment.id)))
      }))
  })
}

/** `prune`: finished deployments older than the cutoff go, with all their rows, and free their key. */
export const pruneOlderTests = (it: SuiteIt, { created }: Helpers): void => {
  describe("prune", () => {
    it.effect("deletes finished deployments older than the cutoff with all their rows, and frees their key", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const old = yield* created(makeSnapshot({ key: "reused", at: T0 - 10_000 }))
        yield* store.appendErrors(fenceOf(old), [errorOf("job-0", "x", T0 - 10_000)])
        yield* store.setJobData(fenceOf(old), "job-0", "k", 1)
        yield* store.checkpoint({
          fence: fenceOf(old),
          at: T0 - 9_000,
          deployment: { status: "succeeded", releaseLease: true },
          jobs: [],
          errors: []
        })
        const active = yield* created(makeSnapshot({ at: T0 - 10_000 }))
        const recent = yield* created(makeSnapshot({ at: T0 }))
        yield* store.checkpoint({
          fence: fenceOf(recent),
          at: T0,
          deployment: { status: "succeeded", releaseLease: true },
          jobs: [],
          errors: []
        })
        const pruned = yield* store.prune(T0 - 5_000, 1_000)
        assert.isAtLeast(pruned, 1)
        assert.isTrue(Option.isNone(yield* store.get(old.deployment.id)))
        assert.deepStrictEqual(yield* store.errors(old.deployment.id), [])
        assert.isTrue(Option.isNone(yield* store.getJobData(old.deployment.id, "job-0", "k")))
        assert.isTrue(Option.isSome(yield* store.get(active.deployment.id)))
        assert.isTrue(Option.isSome(yield* store.get(recent.deployment.id)))
        const again = makeSnapshot({
          key: "reused",
          application: old.deployment.application,
          action: old.deployment.action
        })
        assert.strictEqual((yield* store.create(again, createOptions))._tag, "Created")
      }))
  })
}
