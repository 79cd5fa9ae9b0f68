/**
 * Conformance tests: the optional capabilities a store declares (`transaction`, `stopRequests`) are exactly the
 * ones it has, and work.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Stream } from "effect"
import { DeploymentStore } from "../../DeploymentStore.ts"
import { fenceOf, type Helpers, makeSnapshot, type SuiteIt, type SuiteOptions, T0 } from "./fixtures.ts"

/** The optional capabilities the store declares: transactions and stop notifications. */
export const capabilityTests = (it: SuiteIt, { created, get }: Helpers, options: SuiteOptions): void => {
  describe("optional capabilities", () => {
    it.effect("declares exactly the optional operations the store has", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        assert.strictEqual(store.transaction !== undefined, options.transactions === true, "transaction")
        assert.strictEqual(store.stopRequests !== undefined, options.stopNotifications === true, "stopRequests")
      }))

    if (options.transactions === true) {
      it.effect("transaction commits what ran inside it, checkpoint included, or nothing when it fails", () =>
        Effect.gen(function*() {
          const store = yield* DeploymentStore
          const transaction = store.transaction!
          const snapshot = yield* created(makeSnapshot())
          const advance = (at: number) =>
            store.checkpoint({ fence: fenceOf(snapshot), at, deployment: { currentJob: 1 }, jobs: [], errors: [] })
          const failed = yield* Effect.exit(transaction(Effect.andThen(advance(T0 + 1), Effect.fail("job failed"))))
          assert.isTrue(Exit.isFailure(failed))
          if (Exit.isFailure(failed)) assert.strictEqual(yield* Effect.flip(Effect.failCause(failed.cause)), "job failed")
          assert.strictEqual((yield* get(snapshot.deployment.id)).deployment.currentJob, 0)
          yield* transaction(advance(T0 + 2))
          assert.strictEqual((yield* get(snapshot.deployment.id)).deployment.currentJob, 1)
        }))
    }

    if (options.stopNotifications === true) {
      it.effect("stopRequests tells every listener which deployment was asked to stop", () =>
        Effect.gen(function*() {
          const store = yield* DeploymentStore
          const snapshot = yield* created(makeSnapshot())
          let listening = false
          const received = yield* store.stopRequests!.pipe(
            Stream.tap(() => Effect.sync(() => void (listening = true))),
            Stream.filter((id) => id === snapshot.deployment.id),
            Stream.runHead,
            Effect.forkChild
          )
          // The listener is up once a first request reaches it.
          yield* Effect.repeat(
            Effect.andThen(store.requestStop(snapshot.deployment.id, T0 + 1), Effect.sleep("50 millis")),
            { until: () => listening }
          ).pipe(Effect.timeout("10 seconds"))
          const id = yield* Fiber.join(received).pipe(Effect.timeout("10 seconds"))
          assert.deepStrictEqual(id, Option.some(snapshot.deployment.id))
        }))
    }
  })
}
