/**
 * Conformance tests: `get` and `list` (newest first, filtered by application, action and status, pages that
 * see every deployment exactly once, cursors the store made only), and stop requests (the flag checkpoints and
 * heartbeats report; unknown and finished deployments).
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Option } from "effect"
import { type DeploymentRow, DeploymentStore } from "../../DeploymentStore.ts"
import { fenceOf, type Helpers, makeSnapshot, type SuiteIt, T0, TTL } from "./fixtures.ts"

/** `get` and `list`: unknown ids, filters, newest first, pages that see every deployment once. */
export const readTests = (it: SuiteIt, { created }: Helpers): void => {
  describe("get and list", () => {
    it.effect("get returns None for an unknown id", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        assert.isTrue(Option.isNone(yield* store.get(crypto.randomUUID())))
      }))

    it.effect("lists newest first, filtered by application, action and status", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const application = `app-${crypto.randomUUID()}`
        const a = yield* created(makeSnapshot({ application, action: "a", at: T0 + 1 }))
        const b = yield* created(makeSnapshot({ application, action: "b", at: T0 + 2 }))
        const c = yield* created(makeSnapshot({ application, action: "a", at: T0 + 3 }))
        yield* store.checkpoint({
          fence: fenceOf(c),
          at: T0 + 4,
          deployment: { status: "succeeded", output: 1, releaseLease: true },
          jobs: [],
          errors: []
        })
        const ids = (rows: ReadonlyArray<DeploymentRow>) => rows.map((row) => row.id)
        const all = yield* store.list({ application, limit: 10 })
        assert.deepStrictEqual(ids(all.items), [c.deployment.id, b.deployment.id, a.deployment.id])
        assert.strictEqual(all.next, undefined)
        const onlyA = yield* store.list({ application, action: "a", limit: 10 })
        assert.deepStrictEqual(ids(onlyA.items), [c.deployment.id, a.deployment.id])
        const running = yield* store.list({ application, statuses: ["running"], limit: 10 })
        assert.deepStrictEqual(ids(running.items), [b.deployment.id, a.deployment.id])
        const finished = yield* store.list({ application, statuses: ["succeeded", "rolled_back"], limit: 10 })
        assert.deepStrictEqual(ids(finished.items), [c.deployment.id])
      }))

    it.effect("pages through every deployment exactly once, ties on creation time included", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const application = `app-${crypto.randomUUID()}`
        const expected: Array<string> = []
        for (let i = 0; i < 7; i++) {
          const snapshot = yield* created(makeSnapshot({ application, at: T0 + Math.floor(i / 3) }))
          expected.push(snapshot.deployment.id)
        }
        const seen: Array<string> = []
        let cursor: string | undefined
        do {
          const page = yield* store.list({ application, limit: 3, ...(cursor === undefined ? {} : { cursor }) })
          assert.isAtMost(page.items.length, 3)
          seen.push(...page.items.map((row) => row.id))
          cursor = page.next
        } while (cursor !== undefined)
        assert.deepStrictEqual([...seen].sort(), [...expected].sort())
        assert.strictEqual(new Set(seen).size, seen.length)
      }))

    it.effect("refuses a cursor it did not make", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const error = yield* Effect.flip(store.list({ limit: 3, cursor: "not a cursor" }))
        assert.strictEqual(error.reason, "invalid")
      }))
  })
}

/** Stop requests: the flag that checkpoints and heartbeats report. */
export const stopRequestTests = (it: SuiteIt, { created, get }: Helpers): void => {
  describe("stop requests", () => {
    it.effect("flags a running deployment, which checkpoints and heartbeats then report", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const owner = `owner-${crypto.randomUUID()}`
        const snapshot = yield* created(makeSnapshot({ owner }))
        const result = yield* store.requestStop(snapshot.deployment.id, T0 + 1)
        assert.deepStrictEqual(result, { _tag: "Requested", owner })
        assert.isTrue((yield* get(snapshot.deployment.id)).deployment.stopRequested)
        const held = yield* store.heartbeat({
          owner,
          now: T0 + 2,
          leaseTtlMillis: TTL,
          deploymentIds: [snapshot.deployment.id]
        })
        assert.deepStrictEqual(held, [{ deploymentId: snapshot.deployment.id, epoch: 1, stopRequested: true }])
        const checkpoint = yield* store.checkpoint({ fence: fenceOf(snapshot), at: T0 + 3, deployment: {}, jobs: [], errors: [] })
        assert.isTrue(checkpoint.stopRequested)
      }))

    it.effect("reports unknown and finished deployments", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        assert.deepStrictEqual(yield* store.requestStop(crypto.randomUUID(), T0), { _tag: "NotFound" })
        const snapshot = yield* created(makeSnapshot())
        yield* store.checkpoint({
          fence: fenceOf(snapshot),
          at: T0 + 1,
          deployment: { status: "succeeded", releaseLease: true },
          jobs: [],
          errors: []
        })
        assert.deepStrictEqual(yield* store.requestStop(snapshot.deployment.id, T0 + 2), { _tag: "NotRunning", status: "succeeded" })
        assert.isFalse((yield* get(snapshot.deployment.id)).deployment.stopRequested)
      }))
  })
}
