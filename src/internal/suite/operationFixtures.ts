/**
 * What the conformance tests of the operators' operations share: a parked row, the takeover the runtime makes to
 * retry a paused deployment, and the checks that a deployment is taken over, or left as it was.
 *
 * @internal
 */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { DeploymentStore, type ParkedRow, type Snapshot, type TakeOver, type TakeOverResult } from "../../DeploymentStore.ts"
import { CLAIM_AT, entryOf, type Helpers, T0, TTL } from "./fixtures.ts"

export const parkedRow: ParkedRow = { field: "state", issue: "Expected object, got 1", at: T0 + 6 }

/** The takeover the runtime makes to retry the failed first job of a paused deployment, with `changes`. */
export const takeOverOf = (snapshot: Snapshot, changes: Partial<TakeOver> = {}): TakeOver => ({
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

/**
 * Builds the assertion that a deployment's row, errors and history are as they were (`before`, read earlier, with
 * `historyLength` history entries).
 */
export const unchangedIn = ({ assertSameStored, get }: Pick<Helpers, "assertSameStored" | "get">) =>
(before: Snapshot, historyLength: number) =>
  Effect.gen(function*() {
    const store = yield* DeploymentStore
    const id = before.deployment.id
    assertSameStored(yield* get(id), before)
    assert.strictEqual((yield* store.history(id)).length, historyLength, "history")
    assert.deepStrictEqual((yield* store.errors(id)).map((e) => e.message), ["failed"], "errors")
  })

/** The snapshot of a takeover that applied; fails the test otherwise. */
export const expectTakenOver = (result: TakeOverResult): Snapshot => {
  assert.strictEqual(result._tag, "TakenOver")
  if (result._tag !== "TakenOver") throw new Error(`expected TakenOver, got ${result._tag}`)
  return result.snapshot
}
