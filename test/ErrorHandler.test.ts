import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { Action, Actions, ErrorHandler, Job, type JobContext } from "effect-actions"
import { Boom, Counter, failedDeployment } from "./support/jobs.ts"

const provideActions = Effect.provide(Actions.layerMemory({ recovery: { enabled: false } }))

class Fallback extends Schema.TaggedError<Fallback>()("Fallback", { job: Schema.String }) {
  override get message(): string {
    return `${this.job} exploded`
  }
}

const failing = (value: Counter) => Effect.fail(new Boom({ job: `fn at ${value.n}` }))
const succeeding = (value: Counter) => Effect.succeed({ n: value.n + 1 })

/** Runs one job whose execute is `execute`, and returns the outcome and the error log as (tag, message) pairs. */
const runWith = (execute: (value: Counter) => Effect.Effect<Counter, unknown, JobContext.JobContext>) =>
  Effect.gen(function*() {
    const job = Job.make("wrapped", { input: Counter, output: Counter, execute })
    const action = Action.make("wrapped", [job])
    const actions = yield* Actions.Actions
    yield* actions.register(action)
    const id = yield* actions.start(action, { n: 1 })
    const outcome = yield* Effect.result(actions.awaitById(id))
    const log = (yield* actions.errors(id)).map((entry) => [entry.tag, entry.message])
    return { outcome, log }
  }).pipe(provideActions)

describe("ErrorHandler", () => {
  it.effect("logs nothing when the wrapped function succeeds", () =>
    Effect.gen(function*() {
      const { log, outcome } = yield* runWith(ErrorHandler.wrap(succeeding, () => Effect.succeed({ n: -1 })))
      assert.deepStrictEqual(outcome._tag === "Success" ? outcome.success.output : undefined, { n: 2 })
      assert.deepStrictEqual(log, [])
    }))

  it.effect("logs the failure once and goes on with the handler's value when the handler recovers", () =>
    Effect.gen(function*() {
      const { log, outcome } = yield* runWith(ErrorHandler.wrap(failing, (_error, value) => Effect.succeed({ n: value.n * 100 })))
      assert.deepStrictEqual(outcome._tag === "Success" ? outcome.success.output : undefined, { n: 100 })
      assert.deepStrictEqual(log, [["Boom", "fn at 1 exploded"]])
    }))

  it.effect("logs the failure and the handler's own failure, once each, when the handler fails with another error", () =>
    Effect.gen(function*() {
      const { log, outcome } = yield* runWith(
        ErrorHandler.wrap(failing, () => Effect.fail(new Fallback({ job: "handler" })))
      )
      assert.strictEqual(outcome._tag, "Failure")
      assert.deepStrictEqual(log, [["Boom", "fn at 1 exploded"], ["Fallback", "handler exploded"]])
    }))

  it.effect("logs the failure once when the handler re-raises the same error", () =>
    Effect.gen(function*() {
      const { log, outcome } = yield* runWith(ErrorHandler.wrap(failing, (error) => Effect.fail(error)))
      assert.strictEqual(outcome._tag, "Failure")
      assert.deepStrictEqual(log, [["Boom", "fn at 1 exploded"]])
    }))

  it.effect("logs an unhandled failure once, as the job's failure", () =>
    Effect.gen(function*() {
      const { log, outcome } = yield* runWith(failing)
      assert.strictEqual(outcome._tag, "Failure")
      assert.deepStrictEqual(log, [["Boom", "fn at 1 exploded"]])
    }))

  it.effect("ignore logs the failure and goes on with the value the function received", () =>
    Effect.gen(function*() {
      const { log, outcome } = yield* runWith(ErrorHandler.ignore((value: Counter) => Effect.as(failing(value), value)))
      assert.deepStrictEqual(outcome._tag === "Success" ? outcome.success.output : undefined, { n: 1 })
      assert.deepStrictEqual(log, [["Boom", "fn at 1 exploded"]])
    }))

  it.effect("does not handle defects: they fail the job", () =>
    Effect.gen(function*() {
      const { log, outcome } = yield* runWith(
        ErrorHandler.wrap((_: Counter) => Effect.die(new Error("bug")), () => Effect.succeed({ n: 0 }))
      )
      assert.strictEqual(outcome._tag, "Failure")
      assert.deepStrictEqual(log, [["Defect", "bug"]])
    }))

  it.effect("wraps pre-hooks and post-hooks too, and records the phase", () =>
    Effect.gen(function*() {
      const job = Job.make("hooked", {
        input: Counter,
        output: Counter,
        preHooks: [ErrorHandler.ignore((value: Counter) => Effect.as(failing(value), value))],
        execute: succeeding,
        postHooks: [ErrorHandler.wrap(failing, () => Effect.fail(new Fallback({ job: "post" })))]
      })
      const action = Action.make("hooked", [job])
      const failed = yield* Effect.gen(function*() {
        const actions = yield* Actions.Actions
        yield* actions.register(action)
        const error = yield* failedDeployment(actions.execute(action, { n: 1 }))
        return (yield* actions.errors(error.deploymentId)).map((entry) => [entry.phase, entry.tag, Option.getOrNull(entry.job)])
      }).pipe(provideActions)
      assert.deepStrictEqual(failed, [
        ["pre_hook", "Boom", "hooked"],
        ["post_hook", "Boom", "hooked"],
        ["post_hook", "Fallback", "hooked"]
      ])
    }))

  it.effect("is dual: the handler can be given first, for pipe", () =>
    Effect.gen(function*() {
      const recover = ErrorHandler.wrap((_error: Boom, value: Counter) => Effect.succeed({ n: value.n + 10 }))
      const { outcome } = yield* runWith(recover(failing))
      assert.deepStrictEqual(outcome._tag === "Success" ? outcome.success.output : undefined, { n: 11 })
    }))
})
