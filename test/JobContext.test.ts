import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { Action, Actions, Job, JobContext } from "effect-actions"
import { Boom, Counter, failedDeployment } from "./support/jobs.ts"

const provideActions = Effect.provide(Actions.layerMemory({ recovery: { enabled: false } }))

describe("JobContext", () => {
  it.effect("tells a job its deployment, application, action, name, index, attempt and idempotency key", () =>
    Effect.gen(function*() {
      const seen: Array<JobContext.JobContextShape> = []
      const inspect = (name: string) =>
        Job.make(name, {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.as(Effect.map(JobContext.JobContext, (context) => seen.push({ ...context, phase: context.phase })), value)
        })
      const action = Action.make("inspect", [inspect("first"), inspect("second")])
      const actions = yield* Actions.Actions
      yield* actions.register(action, { application: "shop" })
      const { deploymentId } = yield* actions.execute(action, { n: 0 })
      assert.deepStrictEqual(
        seen.map((c) => [c.deploymentId, c.application, c.action, c.job, c.jobIndex, c.attempt, c.idempotencyKey, c.phase]),
        [
          [deploymentId, "shop", "inspect", "first", 0, 1, `${deploymentId}/first`, "execute"],
          [deploymentId, "shop", "inspect", "second", 1, 1, `${deploymentId}/second`, "execute"]
        ]
      )
    }).pipe(provideActions))

  it.effect("round-trips job data through its schema, per job, and reads another job's data on request", () =>
    Effect.gen(function*() {
      const Vm = Schema.Struct({ id: Schema.String, createdAt: Schema.DateTimeUtcFromMillis })
      const reads: Array<unknown> = []
      const writer = Job.make("writer", {
        input: Counter,
        output: Counter,
        execute: (value) =>
          Effect.gen(function*() {
            const context = yield* JobContext.JobContext
            yield* context.setData("vm", Schema.toType(Vm), { id: "vm-1", createdAt: Schema.decodeSync(Schema.DateTimeUtcFromMillis)(1_000) })
            yield* context.setData("vm", Schema.toType(Vm), { id: "vm-2", createdAt: Schema.decodeSync(Schema.DateTimeUtcFromMillis)(2_000) })
            return value
          })
      })
      const reader = Job.make("reader", {
        input: Counter,
        output: Counter,
        execute: (value) =>
          Effect.gen(function*() {
            const context = yield* JobContext.JobContext
            const own = yield* context.getData("vm", Vm)
            const other = yield* context.getData("vm", Schema.toType(Vm), { job: "writer" })
            reads.push(Option.isNone(own), Option.map(other, (vm) => [vm.id, vm.createdAt.epochMilliseconds]))
            return value
          })
      })
      const action = Action.make("data", [writer, reader])
      const actions = yield* Actions.Actions
      yield* actions.register(action)
      yield* actions.execute(action, { n: 0 })
      assert.deepStrictEqual(reads, [true, Option.some(["vm-2", 2_000])])
    }).pipe(provideActions))

  it.effect("reports stored job data that no longer decodes as StoredDataCorrupt, naming deployment, job and key", () =>
    Effect.gen(function*() {
      const errors: Array<unknown> = []
      const job = Job.make("job", {
        input: Counter,
        output: Counter,
        execute: (value) =>
          Effect.gen(function*() {
            const context = yield* JobContext.JobContext
            yield* context.setData("n", Schema.String, "not a number")
            errors.push(yield* Effect.flip(context.getData("n", Schema.Number)))
            return value
          })
      })
      const action = Action.make("data", [job])
      const actions = yield* Actions.Actions
      yield* actions.register(action)
      const { deploymentId } = yield* actions.execute(action, { n: 0 })
      const [error] = errors as Array<{ _tag: string; deploymentId: string; job: string; field: string }>
      assert.strictEqual(error!._tag, "StoredDataCorrupt")
      assert.strictEqual(error!.deploymentId, deploymentId)
      assert.strictEqual(error!.job, "job")
      assert.include(error!.field, "\"n\"")
    }).pipe(provideActions))

  it.effect("records errors without failing the job, and reads the log back, all of it or the job's", () =>
    Effect.gen(function*() {
      const counts: Array<number> = []
      const noisy = (name: string) =>
        Job.make(name, {
          input: Counter,
          output: Counter,
          execute: (value) =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              yield* context.recordError(new Boom({ job: name }))
              yield* context.recordError("a plain string")
              counts.push((yield* context.errors()).length, (yield* context.errors({ currentJobOnly: true })).length)
              return value
            })
        })
      const action = Action.make("noisy", [noisy("one"), noisy("two")])
      const actions = yield* Actions.Actions
      yield* actions.register(action)
      const { deploymentId } = yield* actions.execute(action, { n: 0 })
      assert.deepStrictEqual(counts, [2, 2, 4, 2])
      const entries = yield* actions.errors(deploymentId)
      assert.deepStrictEqual(entries.map((e) => [e.tag, e.message, e.phase]), [
        ["Boom", "one exploded", "execute"],
        ["Error", "a plain string", "execute"],
        ["Boom", "two exploded", "execute"],
        ["Error", "a plain string", "execute"]
      ])
      assert.deepStrictEqual(entries[0]!.detail, Option.none(), "no error schema on the job: no detail")
    }).pipe(provideActions))

  it.effect("is available to rollbacks, in the rollback phase, for the job being rolled back", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const undo = Job.make("undo", {
        input: Counter,
        output: Counter,
        execute: (value) => Effect.succeed(value),
        rollback: () => Effect.map(JobContext.JobContext, (context) => void seen.push(`${context.job} ${context.phase}`))
      })
      const boom = Job.make("boom", { input: Counter, output: Counter, execute: () => Effect.fail(new Boom({ job: "boom" })) })
      const action = Action.make("undo", [undo, boom])
      const actions = yield* Actions.Actions
      yield* actions.register(action)
      yield* failedDeployment(actions.execute(action, { n: 0 }))
      assert.deepStrictEqual(seen, ["undo rollback"])
    }).pipe(provideActions))
})
