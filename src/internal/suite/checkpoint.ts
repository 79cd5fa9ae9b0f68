/**
 * Conformance tests: the fenced writes. A checkpoint applies its deployment patch, job patches and errors together
 * or not at all, and only while the writer holds the lease (`LeaseLost` otherwise); the error log is append-only and
 * ordered; job data is upserted by `(deployment, job, key)`.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Exit, Option, Schema } from "effect"
import { Deployment } from "../../Deployment.ts"
import { DeploymentStore } from "../../DeploymentStore.ts"
import { assertSameRow, errorOf, fenceOf, type Helpers, makeSnapshot, type SuiteIt, T0 } from "./fixtures.ts"

/** `checkpoint`: one atomic write of the patches and the errors, fenced by the lease. */
export const checkpointTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("checkpoint", () => {
    checkpointPatchTests(it, helpers)
    checkpointEndAndFenceTests(it, helpers)
  })
}

const checkpointPatchTests = (it: SuiteIt, { created, get }: Helpers): void => {
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
}

const checkpointEndAndFenceTests = (it: SuiteIt, { assertSameStored, created, get }: Helpers): void => {
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
}

/** The error log: append-only, ordered, fenced. */
export const errorLogTests = (it: SuiteIt, { created }: Helpers): void => {
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
}

/** Job data: upserts by (deployment, job, key), fenced. */
export const jobDataTests = (it: SuiteIt, { created }: Helpers): void => {
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
}
