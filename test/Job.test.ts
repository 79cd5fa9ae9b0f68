import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Action, Actions, Job } from "effect-actions"
import { Boom, Counter, failedDeployment, type Log, makeLog, step } from "./support/jobs.ts"

const provideActions = Effect.provide(Actions.layerMemory({ recovery: { enabled: false } }))

/** Registers and runs an action; returns the result, or the DeploymentFailed as a value. */
const run = <A extends Action.Any>(action: A, input: Action.Input<A>) =>
  Effect.gen(function*() {
    const actions = yield* Actions.Actions
    yield* actions.register(action)
    return yield* Effect.result(actions.execute(action, input))
  }).pipe(provideActions)

const hooked = (log: Log) =>
  Job.make("hooked", {
    input: Counter,
    output: Counter,
    preHooks: [(value) => Effect.as(log.add("own pre"), value)],
    execute: ({ n }) => Effect.as(log.add("execute"), { n: n + 1 }),
    postHooks: [(value) => Effect.as(log.add("own post"), value)],
    rollback: () => log.add("own rollback")
  })

describe("Job", () => {
  describe("make", () => {
    it("builds a pipeable job with its parts", () => {
      const log = makeLog()
      const job = hooked(log)
      assert.isTrue(Job.isJob(job))
      assert.isFalse(Job.isJob({ name: "x" }))
      assert.strictEqual(job.name, "hooked")
      assert.strictEqual(job.preHooks.length, 1)
      assert.strictEqual(job.postHooks.length, 1)
      assert.strictEqual(job.rollbacks.length, 1)
      assert.strictEqual(job.pipe(Job.rename("other")).name, "other")
    })
  })

  describe("extend", () => {
    it.effect("wraps the job: its pre-hooks first, its post-hooks last, its rollback before the job's own", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const extended = Job.extend(hooked(log), {
          name: "hooked-for-shop",
          preHooks: [(value) => Effect.as(log.add("extension pre"), value)],
          postHooks: [(value) => Effect.as(log.add("extension post"), value)],
          rollback: () => log.add("extension rollback")
        })
        assert.strictEqual(extended.name, "hooked-for-shop")
        const result = yield* run(Action.make("extended", [extended, step("fails", log, { fails: true })]), { n: 0 })
        assert.strictEqual(result._tag, "Failure")
        assert.deepStrictEqual(log.events, [
          "extension pre",
          "own pre",
          "execute",
          "own post",
          "extension post",
          "run fails 1",
          "rollback fails in=1 out=none Boom",
          "extension rollback",
          "own rollback"
        ])
      }))

    it.effect("keeps the job's name, hooks and rollbacks when the extension sets none", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const job = hooked(log)
        const extended = job.pipe(Job.extend({}))
        assert.strictEqual(extended.name, "hooked")
        assert.strictEqual(extended.execute, job.execute)
        assert.deepStrictEqual(extended.preHooks, job.preHooks)
        assert.deepStrictEqual(extended.rollbacks, job.rollbacks)
      }))

    it.effect("runs the job's own rollback even when the extension's rollback fails", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const extended = Job.extend(hooked(log), { rollback: () => Effect.fail(new Boom({ job: "extension" })) })
        const result = yield* run(Action.make("extended", [extended, step("fails", log, { fails: true })]), { n: 0 })
        assert.isTrue(log.events.includes("own rollback"))
        assert.strictEqual(result._tag, "Failure")
        if (result._tag === "Failure" && result.failure._tag === "DeploymentFailed") {
          assert.strictEqual(result.failure.status, "rollback_failed")
        } else {
          assert.fail("expected DeploymentFailed")
        }
      }))
  })

  describe("rename", () => {
    it.effect("runs one job twice in an action under two names", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const add = step("add", log)
        const result = yield* run(Action.make("twice", [add, Job.rename(add, "add-again")]), { n: 0 })
        assert.deepStrictEqual(result._tag === "Success" ? result.success.output : undefined, { n: 2 })
        assert.deepStrictEqual(log.events, ["run add 0", "run add 1"])
      }))
  })

  describe("withRollback", () => {
    it.effect("replaces the job's rollbacks", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const replaced = Job.withRollback(hooked(log), ({ output }) => log.add(`replacement ${Option.isSome(output)}`))
        yield* run(Action.make("replaced", [replaced, step("fails", log, { fails: true })]), { n: 0 })
        assert.isFalse(log.events.includes("own rollback"))
        assert.isTrue(log.events.includes("replacement true"))
      }))
  })

  describe("adapt", () => {
    const Vm = Schema.Struct({ vmId: Schema.String })
    const createVm = (log: Log) =>
      Job.make("create-vm", {
        input: Schema.Struct({ size: Schema.Literals(["s", "m"]) }),
        output: Vm,
        preHooks: [(value) => Effect.as(log.add(`inner pre ${value.size}`), value)],
        execute: ({ size }) => Effect.as(log.add(`create ${size}`), { vmId: `vm-${size}` }),
        rollback: ({ input, output }) =>
          log.add(`delete ${input.size} ${Option.match(output, { onNone: () => "nothing", onSome: (vm) => vm.vmId })}`)
      })
    const App = Schema.Struct({ app: Schema.String, big: Schema.Boolean })
    const AppWithVm = Schema.Struct({ app: Schema.String, vmId: Schema.String })

    const adapted = (log: Log) =>
      Job.adapt(createVm(log), {
        name: "create-app-vm",
        input: App,
        output: AppWithVm,
        mapInput: ({ big }) => Effect.succeed({ size: big ? "m" as const : "s" as const }),
        mapOutput: ({ vmId }, { app }) => Effect.succeed({ app, vmId })
      })

    it.effect("fits a generic job into a pipeline of other types", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const result = yield* run(Action.make("app", [adapted(log)]), { app: "shop", big: true })
        assert.deepStrictEqual(result._tag === "Success" ? result.success.output : undefined, { app: "shop", vmId: "vm-m" })
        assert.deepStrictEqual(log.events, ["inner pre m", "create m"])
      }))

    it.effect("rolls the inner job back with its own input and output", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const fails = Job.make("announce", {
          input: AppWithVm,
          output: AppWithVm,
          execute: () => Effect.fail(new Boom({ job: "announce" }))
        })
        const result = yield* run(Action.make("app", [adapted(log), fails]), { app: "shop", big: false })
        assert.strictEqual(result._tag, "Failure")
        assert.deepStrictEqual(log.events, ["inner pre s", "create s", "delete s vm-s"])
      }))

    it.effect("gives the inner rollback its output even when mapping the output failed", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const broken = Job.adapt(createVm(log), {
          input: App,
          output: AppWithVm,
          mapInput: () => Effect.succeed({ size: "s" as const }),
          mapOutput: () => Effect.fail(new Boom({ job: "map" }))
        })
        yield* run(Action.make("app", [broken]), { app: "shop", big: false })
        assert.deepStrictEqual(log.events, ["inner pre s", "create s", "delete s vm-s"])
      }))
  })

  describe("retry and timeout", () => {
    it.effect("retry retries execute only, with the schedule", () =>
      Effect.gen(function*() {
        const log = makeLog()
        let calls = 0
        const flaky = Job.make("flaky", {
          input: Counter,
          output: Counter,
          preHooks: [(value) => Effect.as(log.add("pre"), value)],
          execute: ({ n }) => {
            calls++
            return calls < 3 ? Effect.fail(new Boom({ job: "flaky" })) : Effect.succeed({ n })
          }
        }).pipe(Job.retry(Schedule.recurs(5)))
        const result = yield* run(Action.make("flaky", [flaky]), { n: 0 })
        assert.strictEqual(result._tag, "Success")
        assert.strictEqual(calls, 3)
        assert.deepStrictEqual(log.events, ["pre"])
      }))

    it.effect("retry gives up when the schedule is exhausted", () =>
      Effect.gen(function*() {
        let calls = 0
        const broken = Job.retry(
          Job.make("broken", {
            input: Counter,
            output: Counter,
            execute: () => {
              calls++
              return Effect.fail(new Boom({ job: "broken" }))
            }
          }),
          Schedule.recurs(2)
        )
        const result = yield* run(Action.make("broken", [broken]), { n: 0 })
        assert.strictEqual(result._tag, "Failure")
        assert.strictEqual(calls, 3)
      }))

    it.effect("timeout fails the job with JobTimeout", () =>
      Effect.gen(function*() {
        const slow = Job.make("slow", {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.as(Effect.sleep("1 hour"), value)
        }).pipe(Job.timeout("1 second"))
        const error = yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          const action = Action.make("slow", [slow])
          yield* actions.register(action)
          const fiber = yield* Effect.forkChild(failedDeployment(actions.execute(action, { n: 0 })))
          yield* TestClock.adjust("2 seconds")
          return yield* Fiber.join(fiber)
        }).pipe(provideActions)
        assert.strictEqual(error.reason, "JobTimeout")
        assert.include(error.failureMessage, "1s")
      }))
  })
})
