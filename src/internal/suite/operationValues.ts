/**
 * Conformance tests: a value no store can hold, written by an operator's operation (`takeOver`,
 * `requestOperation`, `recordOperation`, `requestStop`), is stored exactly or refused as `invalid`, writing nothing.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect } from "effect"
import { DeploymentStore, type NewHistoryRow, type RequestRow, type Snapshot, type TakeOver } from "../../DeploymentStore.ts"
import { entryOf, errorOf, type Helpers, makeSnapshot, requestOf, type SuiteIt, T0 } from "./fixtures.ts"
import { takeOverOf, unchangedIn } from "./operationFixtures.ts"
import { hardStrings, storedExactlyOrRefused } from "./storable.ts"

/** Takeovers of a paused deployment that write `text` into each of their fields. */
const takeOversWith = (text: string): ReadonlyArray<readonly [string, (s: Snapshot) => TakeOver]> => [
  ["history message", (s) => takeOverOf(s, { history: entryOf("retry", "done", { message: text }) })],
  ["history detail key", (s) =>
    takeOverOf(s, { history: entryOf("retry", "done", { detail: { [`k${text}`]: 1 } }) })],
  ["state", (s) => takeOverOf(s, { deployment: { status: "running", state: { s: text } } })],
  ["job input", (s) => takeOverOf(s, { jobs: [{ index: 0, status: "running", input: [text] }] })],
  ["error message", (s) => takeOverOf(s, { errors: [errorOf("job-0", text)] })],
  ["owner", (s) => takeOverOf(s, { owner: `owner-${text}` })]
]

/** `takeOver` stores `text` in each of its fields exactly, or refuses it as `invalid` and writes nothing. */
const takeOversStoredOrRefused = (helpers: Helpers, name: string, text: string) =>
  Effect.gen(function*() {
    const { get, paused } = helpers
    const unchanged = unchangedIn(helpers)
    const store = yield* DeploymentStore
    for (const [field, takeOver] of takeOversWith(text)) {
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
  })

/** `requestOperation` stores `text` in a request and its history entry exactly, or refuses it and writes nothing. */
const requestsStoredOrRefused = (helpers: Helpers, name: string, text: string) =>
  Effect.gen(function*() {
    const { get, paused } = helpers
    const unchanged = unchangedIn(helpers)
    const store = yield* DeploymentStore
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
  })

/** `recordOperation` and `requestStop` store `text` in their history entry exactly, or refuse it and write nothing. */
const entriesStoredOrRefused = (helpers: Helpers, name: string, text: string) =>
  Effect.gen(function*() {
    const { created, get, paused } = helpers
    const unchanged = unchangedIn(helpers)
    const store = yield* DeploymentStore
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
  })

/** Values no store can hold, written by the operators' operations. */
export const operationValueTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("values no store can hold, in operations", () => {
    it.effect("takeOver, requestOperation, recordOperation and requestStop store them exactly or refuse as invalid", () =>
      Effect.gen(function*() {
        for (const [name, text] of hardStrings) {
          yield* takeOversStoredOrRefused(helpers, name, text)
          yield* requestsStoredOrRefused(helpers, name, text)
          yield* entriesStoredOrRefused(helpers, name, text)
        }
      }))
  })
}
