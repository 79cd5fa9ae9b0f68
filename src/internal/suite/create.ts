/**
 * Conformance tests: `create` stores a deployment that `get` reads back exactly (names and values verbatim:
 * quotes, SQL metacharacters, unicode, JSON `null`, 1 MB), hands out copies, is idempotent by key, and keeps
 * `(application, action)` pairs apart.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DeploymentStore } from "../../DeploymentStore.ts"
import { createOptions, type Helpers, makeSnapshot, type SuiteIt } from "./fixtures.ts"

/** `create`: read back exactly, copies on read, idempotent by key, pairs kept apart, values stored verbatim. */
export const createTests = (it: SuiteIt, { assertSameStored, created, get }: Helpers): void => {
  describe("create", () => {
    it.effect("creates a deployment that get reads back exactly", () =>
      Effect.gen(function*() {
        const snapshot = yield* created(makeSnapshot({ key: "web-1" }))
        const read = yield* get(snapshot.deployment.id)
        assertSameStored(read, snapshot)
      }))

    it.effect("hands out copies: changing what a read returned changes nothing stored", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const snapshot = yield* created(makeSnapshot({ key: "copies" }))
        const read = yield* get(snapshot.deployment.id)
        const deployment = read.deployment as { status: string; owner: string | undefined }
        deployment.status = "succeeded"
        deployment.owner = "someone else"
        ;(read.jobs[0] as { status: string }).status = "failed"
        const page = yield* store.list({ application: snapshot.deployment.application, limit: 1 })
        ;(page.items[0] as { status: string }).status = "rolled_back"
        assertSameStored(yield* get(snapshot.deployment.id), snapshot)
      }))

    it.effect("returns the existing deployment for a second create with the same key, writing nothing", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const first = yield* created(makeSnapshot({ key: "same" }))
        const second = makeSnapshot({
          key: "same",
          application: first.deployment.application,
          action: first.deployment.action,
          input: { other: true }
        })
        const result = yield* store.create(second, createOptions)
        assert.strictEqual(result._tag, "Existing")
        if (result._tag === "Existing") assertSameStored(result.snapshot, first)
        assert.isTrue(Option.isNone(yield* store.get(second.deployment.id)))
      }))

    it.effect("keeps (application, action) pairs apart: (ab, c) does not collide with (a, bc)", () =>
      Effect.gen(function*() {
        const suffix = crypto.randomUUID()
        yield* created(makeSnapshot({ application: `ab${suffix}`, action: "c", key: "k" }))
        yield* created(makeSnapshot({ application: `a${suffix}`, action: "bc", key: "k" }))
      }))

    it.effect("creates a new deployment every time when there is no key", () =>
      Effect.gen(function*() {
        const application = `app-${crypto.randomUUID()}`
        yield* created(makeSnapshot({ application }))
        yield* created(makeSnapshot({ application }))
      }))

    it.effect("stores names with quotes, SQL metacharacters and unicode verbatim", () =>
      Effect.gen(function*() {
        const tricky = `it's "quoted" \\ ; DROP TABLE x; -- % _ ${"\u00e9\u6f22\u{1F680}"} ${crypto.randomUUID()}`
        const snapshot = yield* created(makeSnapshot({ application: tricky, action: tricky, key: tricky, input: { s: tricky } }))
        assertSameStored(yield* get(snapshot.deployment.id), snapshot)
      }))

    it.effect("keeps a JSON null input apart from no input", () =>
      Effect.gen(function*() {
        const snapshot = yield* created(makeSnapshot({ input: null }))
        const read = yield* get(snapshot.deployment.id)
        assert.strictEqual(read.jobs[0]!.input, null)
        assert.strictEqual(read.jobs[1]!.input, undefined)
      }))

    it.effect("stores a 1 MB payload and reads it back", () =>
      Effect.gen(function*() {
        const big = "x".repeat(1024 * 1024)
        const snapshot = yield* created(makeSnapshot({ input: { big } }))
        const read = yield* get(snapshot.deployment.id)
        assert.deepStrictEqual(read.jobs[0]!.input, { big })
      }))
  })
}
