/**
 * Conformance tests: `discardCreated` deletes a deployment only while its creator still holds its first lease
 * and its first job has not finished (a `start` that gave up after an ambiguous create).
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DeploymentStore } from "../../DeploymentStore.ts"
import {
  CLAIM_AT,
  createOptions,
  errorOf,
  fenceOf,
  type Helpers,
  makeSnapshot,
  runnableOf,
  type SuiteIt,
  T0,
  TTL
} from "./fixtures.ts"

/** `discardCreated`: deletes an abandoned create while its creator holds the first lease, else keeps it. */
export const discardTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("discardCreated", () => {
    discardDeletesOrKeepsTests(it, helpers)
    discardRefusesTests(it, helpers)
  })
}

const discardDeletesOrKeepsTests = (it: SuiteIt, { created, createdExpired }: Helpers): void => {
  it.effect("deletes the deployment with all its rows while its creator holds the first lease, and frees its key", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot({ key: "abandoned" }))
      yield* store.appendErrors(fenceOf(snapshot), [errorOf("job-0", "noted")])
      yield* store.setJobData(fenceOf(snapshot), "job-0", "k", 1)
      assert.isTrue(yield* store.discardCreated(fenceOf(snapshot)))
      assert.isTrue(Option.isNone(yield* store.get(snapshot.deployment.id)))
      assert.deepStrictEqual(yield* store.errors(snapshot.deployment.id), [])
      assert.isTrue(Option.isNone(yield* store.getJobData(snapshot.deployment.id, "job-0", "k")))
      assert.isFalse(yield* store.discardCreated(fenceOf(snapshot)))
      const again = makeSnapshot({
        key: "abandoned",
        application: snapshot.deployment.application,
        action: snapshot.deployment.action
      })
      assert.strictEqual((yield* store.create(again, createOptions))._tag, "Created")
    }))

  it.effect("keeps a deployment another process took over", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* createdExpired(makeSnapshot())
      const claimed = yield* store.claim({
        owner: "owner-b",
        now: CLAIM_AT,
        leaseTtlMillis: TTL,
        limit: 10,
        runnable: [runnableOf(snapshot)]
      })
      assert.strictEqual(claimed.length, 1)
      assert.isFalse(yield* store.discardCreated(fenceOf(snapshot)))
      assert.isFalse(yield* store.discardCreated(fenceOf(snapshot, { epoch: 2 })))
      assert.isTrue(Option.isSome(yield* store.get(snapshot.deployment.id)))
    }))

  it.effect("keeps a deployment whose first job finished, or that left running", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const advanced = yield* created(makeSnapshot())
      yield* store.checkpoint({
        fence: fenceOf(advanced),
        at: T0 + 1,
        deployment: { currentJob: 1 },
        jobs: [
          { index: 0, status: "succeeded", output: { n: 1 }, finishedAt: T0 + 1 },
          { index: 1, status: "running", input: { n: 1 }, attempts: 1, startedAt: T0 + 1 }
        ],
        errors: []
      })
      const failedFirst = yield* created(makeSnapshot())
      yield* store.checkpoint({
        fence: fenceOf(failedFirst),
        at: T0 + 1,
        deployment: {},
        jobs: [{ index: 0, status: "failed", finishedAt: T0 + 1 }],
        errors: []
      })
      const rollingBack = yield* created(makeSnapshot())
      yield* store.checkpoint({
        fence: fenceOf(rollingBack),
        at: T0 + 1,
        deployment: { status: "rolling_back" },
        jobs: [],
        errors: []
      })
      for (const snapshot of [advanced, failedFirst, rollingBack]) {
        assert.isFalse(yield* store.discardCreated(fenceOf(snapshot)))
        assert.isTrue(Option.isSome(yield* store.get(snapshot.deployment.id)))
      }
    }))
}

const discardRefusesTests = (it: SuiteIt, { created }: Helpers): void => {
  it.effect("returns false for an unknown deployment, another owner, or a string that is no id", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* created(makeSnapshot())
      assert.isFalse(yield* store.discardCreated(fenceOf(snapshot, { owner: "intruder" })))
      assert.isFalse(yield* store.discardCreated(fenceOf(snapshot, { deploymentId: crypto.randomUUID() })))
      assert.isFalse(yield* store.discardCreated(fenceOf(snapshot, { deploymentId: "not-an-id" })))
      assert.isTrue(Option.isSome(yield* store.get(snapshot.deployment.id)))
    }))
}
