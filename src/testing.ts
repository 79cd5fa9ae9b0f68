/**
 * Test support: the conformance suite every persistence layer must pass.
 *
 * `DeploymentStoreSuite(name, layer)` registers, with `@effect/vitest`, the tests of the `DeploymentStore`
 * contract: idempotent creation by key and by id (a repeated create), fenced atomic checkpoints, append-only
 * ordered error logs, job data upserts, filtered and paginated lists, stop requests (of parked deployments too),
 * lease claims (one winner under concurrency, never a parked deployment, each counted in `resumes`), heartbeats,
 * releases, status reads, pruning (bounded by its limit), discarding an abandoned create, version mismatches,
 * copies on read, values read back verbatim (quotes, SQL metacharacters, unicode, JSON `null`, 1 MB), values no
 * store can hold refused as `invalid` (never altered), and the optional transaction and stop notifications the
 * store declares; and the operators' operations of the 0.3 contract: the `paused` status (never claimed or pruned),
 * `null` clears, `restartOf` and requests on create, `list` by creation time, `takeOver` (a compare-and-set, one
 * winner under concurrency), requested operations (`requestOperation`, `findRequests`, `recordOperation`) and the
 * history (`requestStop` with an entry included).
 *
 * **When to use**
 *
 * In the test file of a custom store:
 * `DeploymentStoreSuite("my store", MyStore.layer, { transactions: false, stopNotifications: false })`; add
 * `ownClock: true` when the store judges leases on a clock of its own (a database server's). The built-in stores
 * run it too (`test/DeploymentStore.test.ts`, `test/SqlDeploymentStore.test.ts`).
 *
 * **Gotchas**
 *
 * The layer is built once for the whole suite and shared by its tests, which only read and write deployments
 * they created (with random ids and applications), so the store need not be empty. The suite needs `vitest` and
 * `@effect/vitest` (peer dependencies of this entry point).
 *
 * @since 0.1.0
 */
import { assert, describe, layer as layerTest } from "@effect/vitest"
import { Effect, Exit, Fiber, type Layer, Option, Schema, Stream } from "effect"
import { Deployment } from "./Deployment.ts"
import { type DeploymentRow, DeploymentStore, type Snapshot } from "./DeploymentStore.ts"
import { discardTests } from "./internal/suite/discard.ts"
import {
  assertSameRow,
  CLAIM_AT,
  createOptions,
  errorOf,
  fenceOf,
  helpersFor,
  makeSnapshot as makeSnapshotInternal,
  runnableOf,
  type SnapshotOptions as SnapshotOptionsInternal,
  type SuiteOptions as SuiteOptionsInternal,
  T0,
  TTL
} from "./internal/suite/fixtures.ts"
import { idempotencyTests } from "./internal/suite/idempotency.ts"
import { operationTests } from "./internal/suite/operations.ts"
import { pausedTests } from "./internal/suite/paused.ts"
import { pruneTests } from "./internal/suite/prune.ts"
import { resumeTests } from "./internal/suite/resumes.ts"
import { statusTests } from "./internal/suite/status.ts"
import { storableTests } from "./internal/suite/storable.ts"

/**
 * Options of a snapshot made by `makeSnapshot`.
 *
 * @since 0.1.0
 * @category fixtures
 */
export type SnapshotOptions = SnapshotOptionsInternal

/**
 * A freshly started deployment (job 0 running with `input`, the others pending), as `Actions` creates one.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const makeSnapshot: (options?: SnapshotOptions) => Snapshot = makeSnapshotInternal

/**
 * What a store under test declares about the optional parts of the contract and its clock (`ownClock`: it judges
 * leases on a clock of its own, such as a database server's), and the suite's timeout.
 *
 * @since 0.1.0
 * @category suites
 */
export type SuiteOptions = SuiteOptionsInternal

/**
 * Registers the conformance tests of the `DeploymentStore` contract against `layer`.
 *
 * @since 0.1.0
 * @category suites
 */
export const DeploymentStoreSuite = <E>(
  name: string,
  layer: Layer.Layer<DeploymentStore, E>,
  options: SuiteOptions = {}
): void => {
  describe(`DeploymentStoreSuite (${name})`, () => {
    layerTest(layer, { excludeTestServices: true, timeout: options.timeout ?? "60 seconds" })((it) => {
      const helpers = helpersFor(options)
      const { assertSameStored, created, createdExpired, createdLive, get, ownClock } = helpers

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

      describe("checkpoint", () => {
        it.effect("applies the deployment patch, the job patches and the errors together", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            const result = yield* store.checkpoint({
              fence: fenceOf(snapshot),
              at: T0 + 10,
              deployment: { currentJob: 1, state: { count: 1 } },
              jobs: [
                { index: 0, status: "succeeded", output: { n: 1 }, finishedAt: T0 + 10 },
                { index: 1, status: "running", input: { n: 1 }, attempts: 1, startedAt: T0 + 10 }
              ],
              errors: [errorOf("job-0", "noted")]
            })
            assert.isFalse(result.stopRequested)
            const read = yield* get(snapshot.deployment.id)
            assert.strictEqual(read.deployment.currentJob, 1)
            assert.deepStrictEqual(read.deployment.state, { count: 1 })
            assert.strictEqual(read.deployment.updatedAt, T0 + 10)
            assert.strictEqual(read.deployment.status, "running")
            assertSameRow(read.jobs[0], { ...snapshot.jobs[0]!, status: "succeeded", output: { n: 1 }, finishedAt: T0 + 10 })
            assertSameRow(read.jobs[1], { ...snapshot.jobs[1]!, status: "running", input: { n: 1 }, attempts: 1, startedAt: T0 + 10 })
            assertSameRow(read.jobs[2], snapshot.jobs[2])
            const errors = yield* store.errors(snapshot.deployment.id)
            assert.deepStrictEqual(errors.map((e) => e.message), ["noted"])
          }))

        it.effect("keeps a failure without detail readable by the runtime", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot({ jobs: 1 }))
            yield* store.checkpoint({
              fence: fenceOf(snapshot),
              at: T0 + 5,
              deployment: {
                status: "rolling_back",
                failure: { job: "job-0", jobIndex: 0, phase: "execute", tag: "Error", message: "boom" }
              },
              jobs: [],
              errors: []
            })
            const read = yield* get(snapshot.deployment.id)
            const deployment = yield* Schema.decodeUnknownEffect(Deployment)({
              ...read.deployment,
              jobs: read.jobs,
              history: []
            })
            const failure = Option.getOrThrow(deployment.failure)
            assert.strictEqual(failure.message, "boom")
            assert.isTrue(Option.isNone(failure.detail))
          }))

        it.effect("writes a terminal status, the output, a failure, and releases the lease", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot({ jobs: 1 }))
            yield* store.checkpoint({
              fence: fenceOf(snapshot),
              at: T0 + 5,
              deployment: {
                status: "rolled_back",
                failure: { job: "job-0", jobIndex: 0, phase: "execute", tag: "Boom", message: "no", detail: { a: [1, "2"] } },
                output: null,
                releaseLease: true
              },
              jobs: [{ index: 0, status: "rolled_back", finishedAt: T0 + 5 }],
              errors: []
            })
            const read = yield* get(snapshot.deployment.id)
            assert.strictEqual(read.deployment.status, "rolled_back")
            assert.strictEqual(read.deployment.owner, undefined)
            assert.strictEqual(read.deployment.leaseExpiresAt, undefined)
            assert.strictEqual(read.deployment.output, null)
            assertSameRow(read.deployment.failure, {
              job: "job-0",
              jobIndex: 0,
              phase: "execute",
              tag: "Boom",
              message: "no",
              detail: { a: [1, "2"] }
            })
          }))

        it.effect("refuses a write from another owner or an older epoch with LeaseLost, and writes nothing", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            for (const fence of [fenceOf(snapshot, { owner: "intruder" }), fenceOf(snapshot, { epoch: 0 })]) {
              const exit = yield* Effect.exit(store.checkpoint({
                fence,
                at: T0 + 1,
                deployment: { currentJob: 2, status: "succeeded" },
                jobs: [{ index: 0, status: "succeeded", output: 1 }],
                errors: [errorOf("job-0", "must not be written")]
              }))
              assert.isTrue(Exit.isFailure(exit))
              if (Exit.isFailure(exit)) {
                const error = yield* Effect.flip(Effect.failCause(exit.cause))
                assert.strictEqual(error._tag, "LeaseLost")
              }
            }
            assertSameStored(yield* get(snapshot.deployment.id), snapshot)
            assert.deepStrictEqual(yield* store.errors(snapshot.deployment.id), [])
          }))

        it.effect("refuses a fenced write to an unknown deployment with LeaseLost", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const error = yield* Effect.flip(store.checkpoint({
              fence: { deploymentId: crypto.randomUUID(), owner: "owner-a", epoch: 1 },
              at: T0,
              deployment: {},
              jobs: [],
              errors: []
            }))
            assert.strictEqual(error._tag, "LeaseLost")
          }))
      })

      describe("error log", () => {
        it.effect("appends entries in order with increasing sequence numbers, filtered by job on request", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            const fence = fenceOf(snapshot)
            yield* store.appendErrors(fence, [errorOf("job-0", "first"), errorOf("job-1", "second")])
            yield* store.appendErrors(fence, [errorOf("job-0", "third")])
            const all = yield* store.errors(snapshot.deployment.id)
            assert.deepStrictEqual(all.map((e) => e.message), ["first", "second", "third"])
            assert.isTrue(all[0]!.sequence < all[1]!.sequence && all[1]!.sequence < all[2]!.sequence)
            assertSameRow(all[0], { ...errorOf("job-0", "first"), sequence: all[0]!.sequence })
            const job0 = yield* store.errors(snapshot.deployment.id, "job-0")
            assert.deepStrictEqual(job0.map((e) => e.message), ["first", "third"])
          }))

        it.effect("stores entries without a job or a detail", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            yield* store.appendErrors(fenceOf(snapshot), [{ job: undefined, phase: "input", tag: "X", message: "m", detail: undefined, at: T0 }])
            const [entry] = yield* store.errors(snapshot.deployment.id)
            assert.strictEqual(entry!.job, undefined)
            assert.strictEqual(entry!.detail, undefined)
          }))

        it.effect("refuses appends from a fenced-out writer", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            const error = yield* Effect.flip(store.appendErrors(fenceOf(snapshot, { epoch: 7 }), [errorOf("job-0", "x")]))
            assert.strictEqual(error._tag, "LeaseLost")
            assert.deepStrictEqual(yield* store.errors(snapshot.deployment.id), [])
          }))
      })

      describe("job data", () => {
        it.effect("inserts, replaces and reads entries by (deployment, job, key)", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            const id = snapshot.deployment.id
            const fence = fenceOf(snapshot)
            assert.isTrue(Option.isNone(yield* store.getJobData(id, "job-0", "vm")))
            yield* store.setJobData(fence, "job-0", "vm", { id: "vm-1" })
            yield* store.setJobData(fence, "job-0", "vm", { id: "vm-2" })
            yield* store.setJobData(fence, "job-1", "vm", "other job")
            yield* store.setJobData(fence, "job-0", "it's; -- \"key\"", null)
            assert.deepStrictEqual(yield* store.getJobData(id, "job-0", "vm"), Option.some({ id: "vm-2" }))
            assert.deepStrictEqual(yield* store.getJobData(id, "job-1", "vm"), Option.some("other job"))
            assert.deepStrictEqual(yield* store.getJobData(id, "job-0", "it's; -- \"key\""), Option.some(null))
            assert.isTrue(Option.isNone(yield* store.getJobData(id, "job-2", "vm")))
          }))

        it.effect("refuses writes from a fenced-out writer", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            const error = yield* Effect.flip(store.setJobData(fenceOf(snapshot, { owner: "b" }), "job-0", "k", 1))
            assert.strictEqual(error._tag, "LeaseLost")
            assert.isTrue(Option.isNone(yield* store.getJobData(snapshot.deployment.id, "job-0", "k")))
          }))
      })

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

      describe("leases", () => {
        it.effect("claims only expired leases of runnable definitions, and bumps the epoch", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const application = `app-${crypto.randomUUID()}`
            const expired = yield* createdExpired(makeSnapshot({ application, at: T0 }))
            const fresh = yield* createdLive(makeSnapshot({ application, at: T0 + TTL }))
            const otherVersion = yield* createdExpired(makeSnapshot({ application, at: T0, fingerprint: "[\"other\"]" }))
            const before = (yield* get(expired.deployment.id)).deployment.leaseExpiresAt
            const claimed = yield* store.claim({
              owner: "owner-b",
              now: CLAIM_AT,
              leaseTtlMillis: TTL,
              limit: 10,
              runnable: [runnableOf(expired)]
            })
            assert.deepStrictEqual(claimed.map((s) => s.deployment.id), [expired.deployment.id])
            const row = claimed[0]!.deployment
            assert.strictEqual(row.owner, "owner-b")
            assert.strictEqual(row.leaseEpoch, 2)
            if (ownClock) assert.isAbove(row.leaseExpiresAt!, before!)
            else assert.strictEqual(row.leaseExpiresAt, CLAIM_AT + TTL)
            assertSameRow(claimed[0]!.jobs, expired.jobs)
            assert.strictEqual((yield* get(fresh.deployment.id)).deployment.owner, "owner-a")
            assert.strictEqual((yield* get(otherVersion.deployment.id)).deployment.leaseEpoch, 1)
            const stale = yield* Effect.flip(store.checkpoint({ fence: fenceOf(expired), at: T0, deployment: {}, jobs: [], errors: [] }))
            assert.strictEqual(stale._tag, "LeaseLost")
          }))

        it.effect("never hands one deployment to two concurrent claimers", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const application = `app-${crypto.randomUUID()}`
            const snapshots: Array<Snapshot> = []
            for (let i = 0; i < 20; i++) snapshots.push(yield* createdExpired(makeSnapshot({ application })))
            const runnable = [runnableOf(snapshots[0]!)]
            const results = yield* Effect.all(
              Array.from({ length: 6 }, (_, i) =>
                store.claim({ owner: `claimer-${i}`, now: CLAIM_AT, leaseTtlMillis: TTL, limit: 5, runnable })),
              { concurrency: "unbounded" }
            )
            const ids = results.flatMap((claimed) => claimed.map((s) => s.deployment.id))
            assert.strictEqual(ids.length, 20)
            assert.strictEqual(new Set(ids).size, 20)
            for (const claimed of results) assert.isAtMost(claimed.length, 5)
          }))

        it.effect("never claims finished deployments", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* createdExpired(makeSnapshot())
            yield* store.checkpoint({
              fence: fenceOf(snapshot),
              at: T0 + 1,
              deployment: { status: "rolled_back", releaseLease: true },
              jobs: [],
              errors: []
            })
            const claimed = yield* store.claim({
              owner: "owner-b",
              now: CLAIM_AT,
              leaseTtlMillis: TTL,
              limit: 10,
              runnable: [runnableOf(snapshot)]
            })
            assert.deepStrictEqual(claimed, [])
          }))

        it.effect("claims rolling back deployments too", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* createdExpired(makeSnapshot())
            yield* store.checkpoint({ fence: fenceOf(snapshot), at: T0 + 1, deployment: { status: "rolling_back" }, jobs: [], errors: [] })
            const claimed = yield* store.claim({
              owner: "owner-b",
              now: CLAIM_AT,
              leaseTtlMillis: TTL,
              limit: 10,
              runnable: [runnableOf(snapshot)]
            })
            assert.deepStrictEqual(claimed.map((s) => s.deployment.status), ["rolling_back"])
          }))

        it.effect("heartbeat renews the listed active leases of the owner only", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const owner = `owner-${crypto.randomUUID()}`
            const active = yield* created(makeSnapshot({ owner }))
            const notListed = yield* created(makeSnapshot({ owner }))
            const finished = yield* created(makeSnapshot({ owner }))
            const someoneElse = yield* created(makeSnapshot())
            yield* store.checkpoint({
              fence: fenceOf(finished),
              at: T0 + 1,
              deployment: { status: "succeeded" },
              jobs: [],
              errors: []
            })
            const activeBefore = (yield* get(active.deployment.id)).deployment.leaseExpiresAt!
            const notListedBefore = (yield* get(notListed.deployment.id)).deployment.leaseExpiresAt!
            const someoneElseBefore = (yield* get(someoneElse.deployment.id)).deployment.leaseExpiresAt!
            const held = yield* store.heartbeat({
              owner,
              now: T0 + 1000,
              leaseTtlMillis: TTL,
              deploymentIds: [active.deployment.id, finished.deployment.id, someoneElse.deployment.id, "not-an-id"]
            })
            assert.deepStrictEqual(held, [{ deploymentId: active.deployment.id, epoch: 1, stopRequested: false }])
            const expiry = (id: string) => Effect.map(get(id), (read) => read.deployment.leaseExpiresAt!)
            const renewed = yield* expiry(active.deployment.id)
            if (ownClock) assert.isAtLeast(renewed, activeBefore)
            else assert.strictEqual(renewed, T0 + 1000 + TTL)
            assert.strictEqual(yield* expiry(notListed.deployment.id), notListedBefore)
            assert.strictEqual(yield* expiry(someoneElse.deployment.id), someoneElseBefore)
            assert.deepStrictEqual(yield* store.heartbeat({ owner, now: T0, leaseTtlMillis: TTL, deploymentIds: [] }), [])
          }))

        it.effect("release gives the lease up so another process claims it at once; a stale release does nothing", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            yield* store.release(fenceOf(snapshot, { epoch: 5 }), T0 + 1)
            assert.strictEqual((yield* get(snapshot.deployment.id)).deployment.owner, "owner-a")
            yield* store.release(fenceOf(snapshot), T0 + 1)
            const read = yield* get(snapshot.deployment.id)
            assert.strictEqual(read.deployment.owner, undefined)
            assert.strictEqual(read.deployment.status, "running")
            const claimed = yield* store.claim({
              owner: "owner-b",
              now: T0 + 2,
              leaseTtlMillis: TTL,
              limit: 10,
              runnable: [runnableOf(snapshot)]
            })
            assert.deepStrictEqual(claimed.map((s) => s.deployment.id), [snapshot.deployment.id])
          }))
      })

      describe("versions", () => {
        it.effect("finds expired deployments of a runnable action started under another fingerprint", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const application = `app-${crypto.randomUUID()}`
            const old = yield* createdExpired(makeSnapshot({ application, fingerprint: "[\"v1\"]" }))
            yield* createdExpired(makeSnapshot({ application, fingerprint: "[\"v2\"]" }))
            const leased = yield* createdLive(makeSnapshot({ application, fingerprint: "[\"v1\"]", at: T0 + TTL }))
            yield* createdExpired(makeSnapshot({ application, action: "other", fingerprint: "[\"v1\"]" }))
            const found = yield* store.findMismatched({
              now: CLAIM_AT,
              limit: 10,
              runnable: [{ application, action: "provision", fingerprint: "[\"v2\"]" }]
            })
            assert.deepStrictEqual(found.map((row) => row.id), [old.deployment.id])
            assert.notInclude(found.map((row) => row.id), leased.deployment.id)
          }))

        it.effect("appendErrorOnce appends a report once, without a lease", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const snapshot = yield* created(makeSnapshot())
            const report = { ...errorOf("job-0", "definition changed"), job: undefined }
            assert.isTrue(yield* store.appendErrorOnce(snapshot.deployment.id, report))
            assert.isFalse(yield* store.appendErrorOnce(snapshot.deployment.id, { ...report, at: T0 + 5 }))
            assert.isTrue(yield* store.appendErrorOnce(snapshot.deployment.id, { ...report, message: "another" }))
            assert.isFalse(yield* store.appendErrorOnce(crypto.randomUUID(), report))
            const errors = yield* store.errors(snapshot.deployment.id)
            assert.deepStrictEqual(errors.map((e) => e.message), ["definition changed", "another"])
          }))
      })

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

      describe("prune", () => {
        it.effect("deletes finished deployments older than the cutoff with all their rows, and frees their key", () =>
          Effect.gen(function*() {
            const store = yield* DeploymentStore
            const old = yield* created(makeSnapshot({ key: "reused", at: T0 - 10_000 }))
            yield* store.appendErrors(fenceOf(old), [errorOf("job-0", "x", T0 - 10_000)])
            yield* store.setJobData(fenceOf(old), "job-0", "k", 1)
            yield* store.checkpoint({
              fence: fenceOf(old),
              at: T0 - 9_000,
              deployment: { status: "succeeded", releaseLease: true },
              jobs: [],
              errors: []
            })
            const active = yield* created(makeSnapshot({ at: T0 - 10_000 }))
            const recent = yield* created(makeSnapshot({ at: T0 }))
            yield* store.checkpoint({
              fence: fenceOf(recent),
              at: T0,
              deployment: { status: "succeeded", releaseLease: true },
              jobs: [],
              errors: []
            })
            const pruned = yield* store.prune(T0 - 5_000, 1_000)
            assert.isAtLeast(pruned, 1)
            assert.isTrue(Option.isNone(yield* store.get(old.deployment.id)))
            assert.deepStrictEqual(yield* store.errors(old.deployment.id), [])
            assert.isTrue(Option.isNone(yield* store.getJobData(old.deployment.id, "job-0", "k")))
            assert.isTrue(Option.isSome(yield* store.get(active.deployment.id)))
            assert.isTrue(Option.isSome(yield* store.get(recent.deployment.id)))
            const again = makeSnapshot({
              key: "reused",
              application: old.deployment.application,
              action: old.deployment.action
            })
            assert.strictEqual((yield* store.create(again, createOptions))._tag, "Created")
          }))
      })

      // the parts added with the 0.2 contract, one file each in src/internal/suite/
      idempotencyTests(it, helpers)
      resumeTests(it, helpers)
      statusTests(it, helpers)
      pruneTests(it, helpers)
      discardTests(it, helpers)
      storableTests(it, helpers)
      // the parts added with the 0.3 contract: the paused status and the new row fields, operators' operations
      pausedTests(it, helpers)
      operationTests(it, helpers)
    })
  })
}
