/**
 * Conformance tests: requested operations (`requestOperation`, `findRequests` and `recordOperation` keep at most
 * one pending request per deployment) and the history (append-only and ordered; `requestStop` appends its entry in
 * the same write).
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect } from "effect"
import { type DeploymentStatus } from "../../Deployment.ts"
import { DeploymentStore, type NewHistoryRow, type Snapshot } from "../../DeploymentStore.ts"
import {
  assertSameRow,
  entryOf,
  fenceOf,
  type Helpers,
  makeSnapshot,
  requestOf,
  runnableOf,
  type SuiteIt,
  T0
} from "./fixtures.ts"
import { parkedRow } from "./operationFixtures.ts"

/** Requested operations: at most one pending request per deployment, found by runnable definitions, recorded once. */
export const requestTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("requested operations", () => {
    requestOperationTests(it, helpers)
    findRequestTests(it, helpers)
    restartRequestTests(it, helpers)
    recordOperationTests(it, helpers)
  })
}

const requestOperationTests = (it: SuiteIt, { created, get, paused }: Helpers): void => {
  it.effect("requestOperation records the request exactly, with its history entry", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* paused()
      const request = requestOf("retry")
      const history = entryOf("retry", "requested", { by: "cli-1", at: T0 + 40, reason: "fixed upstream", job: "job-0" })
      const result = yield* store.requestOperation({
        deploymentId: snapshot.deployment.id,
        request,
        statuses: ["paused", "rollback_failed"],
        history
      })
      assert.deepStrictEqual(result, { _tag: "Requested" })
      const read = yield* get(snapshot.deployment.id)
      assertSameRow(read.deployment.request, request)
      assert.strictEqual(read.deployment.status, "paused")
      assert.strictEqual(read.deployment.owner, undefined)
      const [entry] = yield* store.history(snapshot.deployment.id)
      assertSameRow(entry, { ...history, sequence: entry!.sequence })
    }))

  it.effect("requestOperation refuses a pending request, a status not asked for, a parked or unknown deployment", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const ask = (id: string, statuses: ReadonlyArray<DeploymentStatus> = ["paused"]) =>
        store.requestOperation({
          deploymentId: id,
          request: requestOf("rollback"),
          statuses,
          history: entryOf("rollback", "requested")
        })
      const pending = yield* paused()
      const first = requestOf("retry")
      yield* store.requestOperation({
        deploymentId: pending.deployment.id,
        request: first,
        statuses: ["paused"],
        history: entryOf("retry", "requested")
      })
      const second = yield* ask(pending.deployment.id)
      assert.strictEqual(second._tag, "Refused")
      if (second._tag === "Refused") {
        assert.strictEqual(second.status, "paused")
        assertSameRow(second.pending, first)
      }
      assertSameRow((yield* get(pending.deployment.id)).deployment.request, first)
      assert.strictEqual((yield* store.history(pending.deployment.id)).length, 1)

      const running = yield* created(makeSnapshot())
      assert.deepStrictEqual(yield* ask(running.deployment.id), { _tag: "Refused", status: "running" })
      assert.deepStrictEqual(yield* ask(running.deployment.id, []), { _tag: "Refused", status: "running" })
      assert.strictEqual((yield* get(running.deployment.id)).deployment.request, undefined)
      assert.deepStrictEqual(yield* store.history(running.deployment.id), [])

      const parked = yield* created(makeSnapshot())
      yield* store.checkpoint({
        fence: fenceOf(parked),
        at: T0 + 6,
        deployment: { status: "paused", parked: parkedRow, releaseLease: true },
        jobs: [],
        errors: []
      })
      const refused = yield* ask(parked.deployment.id)
      assert.strictEqual(refused._tag, "Parked")
      if (refused._tag === "Parked") assertSameRow(refused.parked, parkedRow)
      assert.strictEqual((yield* get(parked.deployment.id)).deployment.request, undefined)
      assert.deepStrictEqual(yield* store.history(parked.deployment.id), [])

      assert.deepStrictEqual(yield* ask(crypto.randomUUID()), { _tag: "NotFound" })
      assert.deepStrictEqual(yield* ask("not-an-id"), { _tag: "NotFound" })
    }))
}

const findRequestTests = (it: SuiteIt, { created, get, paused }: Helpers): void => {
  it.effect("findRequests returns the pending requests of runnable definitions, not parked, oldest first", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const application = `app-${crypto.randomUUID()}`
      const ask = (snapshot: Snapshot, at: number, statuses: ReadonlyArray<DeploymentStatus> = ["paused"]) =>
        store.requestOperation({
          deploymentId: snapshot.deployment.id,
          request: requestOf("retry", at),
          statuses,
          history: entryOf("retry", "requested", { at })
        })
      const late = yield* paused(makeSnapshot({ application }))
      const early = yield* paused(makeSnapshot({ application }))
      const middle = yield* paused(makeSnapshot({ application }))
      const none = yield* paused(makeSnapshot({ application }))
      const otherVersion = yield* paused(makeSnapshot({ application, fingerprint: "[\"v2\"]" }))
      const parked = yield* created(makeSnapshot({ application }))
      const times = [[late, T0 + 30], [early, T0 + 10], [middle, T0 + 20], [otherVersion, T0 + 5]] as const
      for (const [snapshot, at] of times) assert.strictEqual((yield* ask(snapshot, at))._tag, "Requested")
      // a request recorded on a running deployment, which its owner then parks
      assert.strictEqual((yield* ask(parked, T0 + 1, ["running"]))._tag, "Requested")
      yield* store.checkpoint({
        fence: fenceOf(parked),
        at: T0 + 7,
        deployment: { parked: parkedRow, releaseLease: true },
        jobs: [],
        errors: []
      })
      const runnable = [runnableOf(late)]
      const found = yield* store.findRequests({ runnable, limit: 10 })
      assert.deepStrictEqual(found.map((row) => row.id), [early, middle, late].map((s) => s.deployment.id))
      assert.deepStrictEqual(found.map((row) => row.request?.at), [T0 + 10, T0 + 20, T0 + 30])
      assert.notInclude(found.map((row) => row.id), none.deployment.id)
      const limited = yield* store.findRequests({ runnable, limit: 2 })
      assert.deepStrictEqual(limited.map((row) => row.id), [early, middle].map((s) => s.deployment.id))
      const both = yield* store.findRequests({ runnable: [...runnable, runnableOf(otherVersion)], limit: 10 })
      assert.strictEqual(both[0]!.id, otherVersion.deployment.id)
      assert.deepStrictEqual(yield* store.findRequests({ runnable: [], limit: 10 }), [])
      assert.deepStrictEqual(yield* store.findRequests({ runnable, limit: 0 }), [])

      // reads hand out copies
      ;(found[0]!.request as { id: string }).id = "changed by the caller"
      ;(found[0] as { status: string }).status = "succeeded"
      const again = yield* store.findRequests({ runnable, limit: 1 })
      assert.strictEqual(again[0]!.status, "paused")
      assert.notStrictEqual(again[0]!.request?.id, "changed by the caller")
      const page = yield* store.list({ application, statuses: ["paused"], limit: 10 })
      for (const row of page.items) if (row.request !== undefined) (row.request as { id: string }).id = "changed"
      assert.notStrictEqual((yield* get(early.deployment.id)).deployment.request?.id, "changed")

      // carried out: no longer found
      const requestId = (yield* get(early.deployment.id)).deployment.request!.id
      assert.isTrue(yield* store.recordOperation(early.deployment.id, entryOf("retry", "refused"), requestId))
      const rest = yield* store.findRequests({ runnable, limit: 10 })
      assert.deepStrictEqual(rest.map((row) => row.id), [middle, late].map((s) => s.deployment.id))
    }))
}

const restartRequestTests = (it: SuiteIt, { paused }: Helpers): void => {
  it.effect("findRequests finds a restart request by the action's name whatever its version, the others by version", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const application = `app-${crypto.randomUUID()}`
      const ask = (snapshot: Snapshot, operation: "restart" | "retry", at: number) =>
        store.requestOperation({
          deploymentId: snapshot.deployment.id,
          request: { ...requestOf(operation, at), ...(operation === "restart" ? { restartId: crypto.randomUUID() } : {}) },
          statuses: ["paused"],
          history: entryOf(operation, "requested", { at })
        })
      // both made by an earlier version of the action; the runnable definition is a later one
      const restart = yield* paused(makeSnapshot({ application, fingerprint: "[\"v1\"]" }))
      const retry = yield* paused(makeSnapshot({ application, fingerprint: "[\"v1\"]" }))
      const elsewhere = yield* paused(makeSnapshot({ application, action: "another-action", fingerprint: "[\"v1\"]" }))
      assert.strictEqual((yield* ask(restart, "restart", T0 + 10))._tag, "Requested")
      assert.strictEqual((yield* ask(retry, "retry", T0 + 20))._tag, "Requested")
      assert.strictEqual((yield* ask(elsewhere, "restart", T0 + 30))._tag, "Requested")
      const later = { ...runnableOf(restart), fingerprint: "[\"v2\"]" }
      const found = yield* store.findRequests({ runnable: [later], limit: 10 })
      assert.deepStrictEqual(found.map((row) => row.id), [restart.deployment.id])
      const own = yield* store.findRequests({ runnable: [later, runnableOf(retry)], limit: 10 })
      assert.deepStrictEqual(own.map((row) => row.id), [restart.deployment.id, retry.deployment.id])
    }))
}

const recordOperationTests = (it: SuiteIt, { get, paused }: Helpers): void => {
  it.effect("recordOperation appends; with a request id, only while that request is pending, and clears it", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const snapshot = yield* paused()
      const id = snapshot.deployment.id
      const note = entryOf("stop", "done", { message: "stopped by an operator", detail: { previous: "paused" } })
      assert.isTrue(yield* store.recordOperation(id, note))
      const request = requestOf("rollback")
      const asked = entryOf("rollback", "requested")
      yield* store.requestOperation({ deploymentId: id, request, statuses: ["paused"], history: asked })
      const refusal = entryOf("rollback", "refused", { message: "the action is not registered" })
      assert.isFalse(yield* store.recordOperation(id, refusal, "another-request"))
      assertSameRow((yield* get(id)).deployment.request, request)
      assert.strictEqual((yield* store.history(id)).length, 2)
      assert.isTrue(yield* store.recordOperation(id, refusal, request.id))
      const read = yield* get(id)
      assert.strictEqual(read.deployment.request, undefined)
      assert.strictEqual(read.deployment.status, "paused")
      assert.isFalse(yield* store.recordOperation(id, refusal, request.id))
      const history = yield* store.history(id)
      assert.deepStrictEqual(history.map((entry) => entry.outcome), ["done", "requested", "refused"])
      assertSameRow(history[0], { ...note, sequence: history[0]!.sequence })
      assert.isFalse(yield* store.recordOperation(crypto.randomUUID(), note))
      assert.isFalse(yield* store.recordOperation("not-an-id", note))
    }))
}

/** The history: append-only, in the order written; `requestStop` appends its entry in the same write. */
export const historyTests = (it: SuiteIt, { created, get, paused }: Helpers): void => {
  describe("history", () => {
    it.effect("keeps every entry and field in the order written; none for an unknown deployment", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const snapshot = yield* paused()
        const id = snapshot.deployment.id
        const entries: ReadonlyArray<NewHistoryRow> = [
          entryOf("stop", "done"),
          entryOf("retry", "requested", { reason: "it's \"quoted\" \u00e9\u{1F680}", job: "job-1", at: T0 + 60 }),
          entryOf("restart", "done", { message: "restarted", detail: { restartId: crypto.randomUUID(), n: null } }),
          entryOf("rollback", "refused", { detail: null, at: T0 + 1 })
        ]
        for (const entry of entries) assert.isTrue(yield* store.recordOperation(id, entry))
        const history = yield* store.history(id)
        assertSameRow(history, entries.map((entry, i) => ({ ...entry, sequence: history[i]!.sequence })))
        assert.strictEqual(history[3]!.detail, null)
        for (let i = 1; i < history.length; i++) assert.isAbove(history[i]!.sequence, history[i - 1]!.sequence)
        ;(history[0] as { by: string }).by = "changed by the caller"
        assert.strictEqual((yield* store.history(id))[0]!.by, "operator-1")
        assert.deepStrictEqual(yield* store.history(crypto.randomUUID()), [])
        assert.deepStrictEqual(yield* store.history("not-an-id"), [])
      }))

    it.effect("requestStop appends its history entry with the stop, and none when it does not stop", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        const running = yield* created(makeSnapshot())
        const entry = entryOf("stop", "done", { reason: "maintenance window" })
        assert.deepStrictEqual(yield* store.requestStop(running.deployment.id, T0 + 3, entry), {
          _tag: "Requested",
          owner: "owner-a"
        })
        assert.isTrue((yield* get(running.deployment.id)).deployment.stopRequested)
        const [recorded] = yield* store.history(running.deployment.id)
        assertSameRow(recorded, { ...entry, sequence: recorded!.sequence })

        const stopped = yield* paused()
        assert.strictEqual((yield* store.requestStop(stopped.deployment.id, T0 + 6, entry))._tag, "NotRunning")
        assert.deepStrictEqual(yield* store.history(stopped.deployment.id), [])
        const parked = yield* created(makeSnapshot())
        yield* store.checkpoint({
          fence: fenceOf(parked),
          at: T0 + 6,
          deployment: { parked: parkedRow },
          jobs: [],
          errors: []
        })
        assert.strictEqual((yield* store.requestStop(parked.deployment.id, T0 + 7, entry))._tag, "Parked")
        assert.deepStrictEqual(yield* store.history(parked.deployment.id), [])
        assert.deepStrictEqual(yield* store.requestStop(crypto.randomUUID(), T0, entry), { _tag: "NotFound" })
      }))
  })
}
