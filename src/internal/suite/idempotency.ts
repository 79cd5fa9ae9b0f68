/**
 * Conformance tests: `create` repeated with the same deployment id (a create whose reply was lost) returns the
 * stored deployment and writes nothing.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DeploymentStore } from "../../DeploymentStore.ts"
import { createOptions, type Helpers, makeSnapshot, type SuiteIt, T0 } from "./fixtures.ts"

export const idempotencyTests = (it: SuiteIt, { assertSameStored, created, get }: Helpers): void => {
  describe("create, repeated", () => {
    it.effect("returns the stored deployment for a repeat of a create with the same id, writing nothing", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const first = yield* created(makeSnapshot())
        const repeat = {
          deployment: { ...first.deployment, state: { count: 99 }, updatedAt: T0 + 5 },
          jobs: first.jobs.map((job) => ({ ...job, input: { repeated: true } }))
        }
        const result = yield* store.create(repeat, createOptions)
        assert.strictEqual(result._tag, "Existing")
        if (result._tag === "Existing") assertSameStored(result.snapshot, first)
        assertSameStored(yield* get(first.deployment.id), first)
      }))

    it.effect("recognises a repeat by id whatever its key, and keeps the key it was created with", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const first = yield* created(makeSnapshot({ key: "first-key" }))
        const withOtherKey = { ...first, deployment: { ...first.deployment, key: "other-key" } }
        const repeated = yield* store.create(withOtherKey, createOptions)
        assert.strictEqual(repeated._tag, "Existing")
        if (repeated._tag === "Existing") assert.strictEqual(repeated.snapshot.deployment.key, "first-key")
        // the other key names no deployment: a new create with it makes one
        const fresh = makeSnapshot({
          key: "other-key",
          application: first.deployment.application,
          action: first.deployment.action
        })
        assert.strictEqual((yield* store.create(fresh, createOptions))._tag, "Created")
        const unkeyed = yield* store.create({ ...first, deployment: { ...first.deployment, key: undefined } }, createOptions)
        assert.strictEqual(unkeyed._tag, "Existing")
      }))

    it.effect("answers a repeat of a create that has since advanced with the current deployment", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const first = yield* created(makeSnapshot())
        yield* store.checkpoint({
          fence: { deploymentId: first.deployment.id, owner: "owner-a", epoch: 1 },
          at: T0 + 10,
          deployment: { currentJob: 1 },
          jobs: [{ index: 0, status: "succeeded", output: { n: 1 }, finishedAt: T0 + 10 }],
          errors: []
        })
        const result = yield* store.create(first, createOptions)
        assert.strictEqual(result._tag, "Existing")
        if (result._tag === "Existing") {
          assert.strictEqual(result.snapshot.deployment.currentJob, 1)
          assert.deepStrictEqual(result.snapshot.jobs[0]!.output, { n: 1 })
        }
        assert.isTrue(Option.isSome(yield* store.get(first.deployment.id)))
      }))
  })
}
