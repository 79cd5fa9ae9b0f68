/**
 * Conformance tests: the operators' operations of the 0.3 contract. `takeOver` is a compare-and-set (status, lease
 * epoch, not parked, pending request) that makes the caller the lease holder with the next epoch, exactly once
 * under concurrency, and writes nothing when it does not apply; `requestOperation`, `findRequests` and
 * `recordOperation` keep at most one pending request per deployment; the history is append-only and ordered;
 * `requestStop` appends its history entry in the same write; a value no store can hold is stored exactly or refused
 * as `invalid`, writing nothing. (The `paused` status itself is `paused.ts`'s.)
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect } from "effect"
import type { DeploymentStatus } from "../../Deployment.ts"
import {
  DeploymentStore,
  type NewHistoryRow,
  type ParkedRow,
  type RequestRow,
  type Snapshot,
  type TakeOver,
  type TakeOverResult
} from "../../DeploymentStore.ts"
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
  runnableOf,
  type SuiteIt,
  T0,
  TTL
} from "./fixtures.ts"
import { hardStrings, storedExactlyOrRefused } from "./storable.ts"

const parkedRow: ParkedRow = { field: "state", issue: "Expected object, got 1", at: T0 + 6 }

/** The takeover the runtime makes to retry the failed first job of a paused deployment, with `changes`. */
const takeOverOf = (snapshot: Snapshot, changes: Partial<TakeOver> = {}): TakeOver => ({
  deploymentId: snapshot.deployment.id,
  expect: { status: "paused", leaseEpoch: 1 },
  owner: "operator-x",
  now: CLAIM_AT,
  leaseTtlMillis: TTL,
  at: T0 + 50,
  deployment: { status: "running", failure: null },
  jobs: [{ index: 0, status: "running", attempts: 2, startedAt: T0 + 50, finishedAt: null }],
  errors: [],
  history: entryOf("retry", "done", { job: "job-0" }),
  ...changes
})

export const operationTests = (it: SuiteIt, { assertSameStored, created, get, ownClock, paused }: Helpers): void => {
  /** Asserts that a deployment's row, errors and history are as they were (`before`, read earlier). */
  const unchanged = (before: Snapshot, historyLength: number) =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const id = before.deployment.id
      assertSameStored(yield* get(id), before)
      assert.strictEqual((yield* store.history(id)).length, historyLength, "history")
      assert.deepStrictEqual((yield* store.errors(id)).map((e) => e.message), ["failed"], "errors")
    })

  const expectTakenOver = (result: TakeOverResult): Snapshot => {
    assert.strictEqual(result._tag, "TakenOver")
    if (result._tag !== "TakenOver") throw new Error(`expected TakenOver, got ${result._tag}`)
    return result.snapshot
  }

  describe("takeOver", () => {
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
  })

  describe("requested operations", () => {
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
  })

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

  describe("values no store can hold, in operations", () => {
    it.effect("takeOver, requestOperation, recordOperation and requestStop store them exactly or refuse as invalid", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore
        for (const [name, text] of hardStrings) {
          const takeOvers: ReadonlyArray<readonly [string, (s: Snapshot) => TakeOver]> = [
            ["history message", (s) => takeOverOf(s, { history: entryOf("retry", "done", { message: text }) })],
            ["history detail key", (s) =>
              takeOverOf(s, { history: entryOf("retry", "done", { detail: { [`k${text}`]: 1 } }) })],
            ["state", (s) => takeOverOf(s, { deployment: { status: "running", state: { s: text } } })],
            ["job input", (s) => takeOverOf(s, { jobs: [{ index: 0, status: "running", input: [text] }] })],
            ["error message", (s) => takeOverOf(s, { errors: [errorOf("job-0", text)] })],
            ["owner", (s) => takeOverOf(s, { owner: `owner-${text}` })]
          ]
          for (const [field, takeOver] of takeOvers) {
            const snapshot = yield* paused()
            const before = yield* get(snapshot.deployment.id)
            const write = takeOver(snapshot)
            yield* storedExactlyOrRefused(
              `takeOver ${field} with ${name}`,
              store.takeOver(write),
              Effect.gen(function*() {
                const read = yield* get(snapshot.deployment.id)
                const [entry] = yield* store.history(snapshot.deployment.id)
                const errors = yield* store.errors(snapshot.deployment.id)
                return {
                  state: read.deployment.state,
                  owner: read.deployment.owner,
                  input: read.jobs[0]!.input,
                  message: entry?.message,
                  detail: entry?.detail,
                  errors: errors.map((e) => e.message)
                }
              }),
              {
                state: write.deployment.state ?? before.deployment.state,
                owner: write.owner,
                input: write.jobs[0]?.input ?? before.jobs[0]!.input,
                message: write.history.message,
                detail: write.history.detail,
                errors: ["failed", ...write.errors.map((e) => e.message)]
              },
              unchanged(before, 0)
            )
          }

          const id = (yield* paused()).deployment.id
          const requests: ReadonlyArray<readonly [string, RequestRow, NewHistoryRow]> = [
            ["request reason", { ...requestOf("retry"), reason: text }, entryOf("retry", "requested")],
            ["request input key", { ...requestOf("retry"), input: { [`k${text}`]: 1 } }, entryOf("retry", "requested")],
            ["history by", requestOf("retry"), entryOf("retry", "requested", { by: text })]
          ]
          for (const [field, request, history] of requests) {
            const current = yield* get(id)
            const length = (yield* store.history(id)).length
            yield* storedExactlyOrRefused(
              `requestOperation ${field} with ${name}`,
              store.requestOperation({ deploymentId: id, request, statuses: ["paused"], history }),
              Effect.gen(function*() {
                const read = yield* get(id)
                const recorded = yield* store.history(id)
                return { request: read.deployment.request, by: recorded[recorded.length - 1]?.by }
              }),
              { request, by: history.by },
              unchanged(current, length)
            )
            // a stored request is carried out, so that the next one can be recorded
            const pending = (yield* get(id)).deployment.request
            if (pending !== undefined) yield* store.recordOperation(id, entryOf("retry", "refused"), pending.id)
          }
          const noted = yield* paused()
          const notedBefore = yield* get(noted.deployment.id)
          yield* storedExactlyOrRefused(
            `recordOperation detail with ${name}`,
            store.recordOperation(noted.deployment.id, entryOf("stop", "done", { detail: { s: text } })),
            Effect.map(store.history(noted.deployment.id), (history) => history.map((entry) => entry.detail)),
            [{ s: text }],
            unchanged(notedBefore, 0)
          )

          const running = yield* created(makeSnapshot())
          yield* storedExactlyOrRefused(
            `requestStop history reason with ${name}`,
            store.requestStop(running.deployment.id, T0 + 3, entryOf("stop", "done", { reason: text })),
            Effect.map(store.history(running.deployment.id), (history) => history.map((entry) => entry.reason)),
            [text],
            Effect.gen(function*() {
              assert.isFalse((yield* get(running.deployment.id)).deployment.stopRequested, name)
              assert.deepStrictEqual(yield* store.history(running.deployment.id), [], name)
            })
          )
        }
      }))
  })
}
