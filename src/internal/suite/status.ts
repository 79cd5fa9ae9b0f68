/**
 * Conformance tests: `status` reads a deployment's status and why it is parked, without its values.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DeploymentStore } from "../../DeploymentStore.ts"
import { fenceOf, type Helpers, makeSnapshot, type SuiteIt, T0 } from "./fixtures.ts"

export const statusTests = (it: SuiteIt, { created }: Helpers): void => {
  describe("status", () => {
    it.effect("reads the id, names, status and update time only, and follows checkpoints", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const snapshot = yield* created(makeSnapshot({ input: { big: "x".repeat(10_000) } }))
        const { action, application, id } = snapshot.deployment
        assert.deepStrictEqual(
          yield* store.status(id),
          Option.some({ id, application, action, status: "running", parked: undefined, updatedAt: T0 })
        )
        yield* store.checkpoint({
          fence: fenceOf(snapshot),
          at: T0 + 20,
          deployment: { status: "succeeded", output: { done: true }, releaseLease: true },
          jobs: [],
          errors: []
        })
        const status = Option.getOrThrow(yield* store.status(id))
        assert.deepStrictEqual(Object.keys(status).sort(), ["action", "application", "id", "parked", "status", "updatedAt"])
        assert.strictEqual(status.status, "succeeded")
        assert.strictEqual(status.updatedAt, T0 + 20)
      }))

    it.effect("returns None for an unknown id, and for a string that is no id", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        assert.isTrue(Option.isNone(yield* store.status(crypto.randomUUID())))
        assert.isTrue(Option.isNone(yield* store.status("not-an-id")))
      }))
  })
}
