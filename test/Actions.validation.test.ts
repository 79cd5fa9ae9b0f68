import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, type Duration, Effect, Exit, Fiber, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Action, ActionError, Actions, DeploymentStore, Job, JobContext, State } from "effect-actions"
import { Counter, failedDeployment, makeLog, step } from "./support/jobs.ts"
import { startProcess } from "./support/processes.ts"

const provideActions = Effect.provide(Actions.layerMemory({ recovery: { enabled: false } }))

/** A job that waits for `gate` before passing its input on. */
const gated = (name: string, gate: Deferred.Deferred<void>) =>
  Job.make(name, { input: Counter, output: Counter, execute: (value) => Effect.as(Deferred.await(gate), value) })

/** A value the types forbid, as an untyped caller (JavaScript, a decoded request) would pass it. */
const untyped = <A>(value: unknown): A => value as A

/** The tag of the typed failure an effect ended with, or what else it ended with (`success`, `defect`). */
const outcomeOf = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit): string => {
    if (Exit.isSuccess(exit)) return "success"
    if (Cause.hasDies(exit.cause)) return "defect"
    const error = Cause.findErrorOption(exit.cause)
    return error._tag === "Some" ? error.value._tag : "interrupted"
  })

describe("Actions (class 6: every option validated)", () => {
  it.effect.each([
    ["recovery.batch of 0", { recovery: { batch: 0 } }, "recovery.batch"],
    ["a negative recovery.batch", { recovery: { batch: -1 } }, "recovery.batch"],
    ["recovery.heartbeat of 0", { recovery: { heartbeat: 0 } }, "recovery.heartbeat"],
    ["recovery.leaseTtl of 0", { recovery: { leaseTtl: 0 } }, "recovery.leaseTtl"],
    ["recovery.pollInterval \"30 banana\"", { recovery: { pollInterval: "30 banana" } }, "recovery.pollInterval"],
    ["recovery.maxResumes of 0", { recovery: { maxResumes: 0 } }, "recovery.maxResumes"],
    ["a negative shutdownTimeout", { shutdownTimeout: -1 }, "shutdownTimeout"]
  ] as const)("fails the layer with InvalidOption for %s", ([, options, option]) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(Actions.layerMemory(untyped<Actions.Options>(options))))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      const error = Cause.findErrorOption(exit.cause)
      assert.strictEqual(error._tag, "Some")
      if (error._tag !== "Some") return
      assert.instanceOf(error.value, ActionError.InvalidOption)
      assert.strictEqual(error.value.option, option)
    }))

  it.effect("does nothing else when an option is invalid: not one store call", () =>
    Effect.gen(function*() {
      const inner = yield* DeploymentStore.makeMemory
      const calls: Array<string> = []
      const spy = Object.fromEntries(
        Object.entries(inner).map(([name, member]) => [
          name,
          typeof member === "function"
            ? (...args: Array<unknown>) => {
              calls.push(name)
              return (member as (...a: Array<unknown>) => unknown)(...args)
            }
            : member
        ])
      ) as unknown as DeploymentStore.DeploymentStoreShape
      const error = yield* Effect.flip(
        Actions.make({ recovery: { batch: 0, enabled: true } }).pipe(
          Effect.provideService(DeploymentStore.DeploymentStore, spy)
        )
      )
      assert.strictEqual(error._tag, "InvalidOption")
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(calls, [])
    }))
})

describe("Actions (class 6: every argument validated)", () => {
  it.effect("prune with an invalid duration is an InvalidArgument and deletes nothing", () =>
    Effect.gen(function*() {
      const log = makeLog()
      const quick = Action.make("quick", [step("a", log)])
      const broken = Action.make("broken", [step("a", log, { fails: true, rollbackFails: "error" })])
      const actions = yield* Actions.Actions
      yield* actions.register(quick)
      yield* actions.register(broken)
      const done = yield* actions.execute(quick, { n: 0 })
      const failed = yield* failedDeployment(actions.execute(broken, { n: 0 }))
      assert.strictEqual(failed.status, "rollback_failed")
      yield* TestClock.adjust("2 days")
      for (const olderThan of [Number.NaN, -1, "-1 days", Number.POSITIVE_INFINITY, "30 banana", undefined]) {
        const error = yield* Effect.flip(actions.prune({ olderThan: untyped(olderThan) }))
        assert.strictEqual(error._tag, "InvalidArgument")
        if (error._tag !== "InvalidArgument") return
        assert.strictEqual(error.operation, "prune")
        assert.strictEqual(error.argument, "options.olderThan")
      }
      assert.strictEqual((yield* actions.get(done.deploymentId)).status, "succeeded")
      assert.strictEqual((yield* actions.get(failed.deploymentId)).status, "rollback_failed")
      assert.strictEqual(yield* actions.prune({ olderThan: "1 day" }), 2)
    }).pipe(provideActions))

  it.effect("list with an invalid limit is an InvalidArgument, never an empty or clamped page", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const deploy = Action.make("deploy", [step("a", makeLog())])
      yield* actions.register(deploy)
      yield* actions.execute(deploy, { n: 0 })
      for (const limit of [Number.NaN, 0, 1001, 2.5]) {
        const error = yield* Effect.flip(actions.list({ limit }))
        assert.strictEqual(error._tag, "InvalidArgument")
      }
      const unknownStatus = yield* Effect.flip(actions.list({ statuses: untyped(["sleeping"]) }))
      assert.strictEqual(unknownStatus._tag, "InvalidArgument")
      assert.strictEqual((yield* actions.list({ limit: 1 })).items.length, 1)
    }).pipe(provideActions))

  it.effect.each([["undefined", undefined], ["null", null], ["a number", 42], ["a string", "deploy"]] as const)(
    "the untyped entry points refuse %s as the action ref with InvalidArgument, not a defect",
    ([, ref]) =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        assert.strictEqual(yield* outcomeOf(actions.startByName(untyped(ref), { n: 0 })), "InvalidArgument")
        assert.strictEqual(yield* outcomeOf(actions.executeByName(untyped(ref), { n: 0 })), "InvalidArgument")
      }).pipe(provideActions)
  )

  it.effect("every operation taking a deployment id refuses a non-string with InvalidArgument", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const deploy = Action.make("deploy", [step("a", makeLog())])
      yield* actions.register(deploy)
      const id = untyped<string>(42)
      const failures = [
        yield* Effect.flip(actions.get(id)),
        yield* Effect.flip(actions.stop(id)),
        yield* Effect.flip(actions.errors(id)),
        yield* Effect.flip(actions.awaitById(id)),
        yield* Effect.flip(actions.await(deploy, id))
      ]
      assert.deepStrictEqual(failures.map((error) => [error._tag, "operation" in error ? error.operation : ""]), [
        ["InvalidArgument", "get"],
        ["InvalidArgument", "stop"],
        ["InvalidArgument", "errors"],
        ["InvalidArgument", "awaitById"],
        ["InvalidArgument", "await"]
      ])
    }).pipe(provideActions))

  it.effect("errors refuses a job option that is not a name", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const error = yield* Effect.flip(actions.errors("some-id", { job: untyped(5) }))
      assert.strictEqual(error._tag, "InvalidArgument")
    }).pipe(provideActions))

  it.effect("start refuses an unstorable or over-long key before creating anything", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const deploy = Action.make("deploy", [step("a", makeLog())])
      yield* actions.register(deploy)
      for (const key of ["a\u0000b", "🚀".slice(0, 1), "k".repeat(1025), untyped<string>(7)]) {
        const error = yield* Effect.flip(actions.start(deploy, { n: 0 }, { key }))
        assert.strictEqual(error._tag, "InvalidArgument")
        if (error._tag !== "InvalidArgument") return
        assert.strictEqual(error.argument, "options.key")
      }
      const byName = yield* Effect.flip(actions.startByName({ application: "default", action: "deploy" }, { n: 0 }, { key: "\u0000" }))
      assert.strictEqual(byName._tag, "InvalidArgument")
      assert.strictEqual((yield* actions.list()).items.length, 0)
    }).pipe(provideActions))

  it.effect("treats the empty key as a key like any other: a second start joins the first", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const deploy = Action.make("deploy", [step("a", makeLog())])
      yield* actions.register(deploy)
      const first = yield* actions.execute(deploy, { n: 0 }, { key: "" })
      const second = yield* actions.execute(deploy, { n: 5 }, { key: "" })
      assert.strictEqual(second.deploymentId, first.deploymentId)
      assert.deepStrictEqual(second.output, { n: 1 })
    }).pipe(provideActions))

  it.effect("register refuses a job whose timeout is not a duration, instead of a defect when the job runs", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const slow = Job.timeout(step("slow", makeLog()), untyped<Duration.Input>("30 banana"))
      const error = yield* Effect.flip(actions.register(Action.make("deploy", [slow])))
      assert.strictEqual(error._tag, "InvalidArgument")
      if (error._tag !== "InvalidArgument") return
      assert.strictEqual(error.argument, "action.jobs[0].timeout")
    }).pipe(provideActions))

  it.effect("the typed entry points refuse something that is not an action with InvalidArgument", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const notAnAction = untyped<Action.Action<Counter, Counter>>({ name: "deploy" })
      assert.strictEqual((yield* Effect.flip(actions.start(notAnAction, { n: 0 })))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(actions.execute(notAnAction, { n: 0 })))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(actions.await(notAnAction, "id")))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(actions.register(notAnAction)))._tag, "InvalidArgument")
    }).pipe(provideActions))
})

describe("Actions (class 1: names are checked where they enter)", () => {
  it.effect.each([
    ["a job name with \\u0000", () => Action.make("deploy", [step("a\u0000", makeLog())]), {}, "action.jobs[0].name"],
    ["a job name with a lone surrogate", () => Action.make("deploy", [step("a", makeLog()), step("🚀".slice(0, 1), makeLog())]), {}, "action.jobs[1].name"],
    ["an action name of 257 bytes", () => Action.make("d".repeat(257), [step("a", makeLog())]), {}, "action.name"],
    ["an empty action name", () => Action.make("", [step("a", makeLog())]), {}, "action.name"],
    ["an application with \\u0000", () => Action.make("deploy", [step("a", makeLog())]), { application: "shop\u0000" }, "options.application"]
  ] as const)("register refuses %s with InvalidArgument, and recovery goes on for the others", ([, make, options, argument]) =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const good = Action.make("good", [step("a", makeLog())])
      yield* actions.register(good)
      const error = yield* Effect.flip(actions.register(make(), options))
      assert.strictEqual(error._tag, "InvalidArgument")
      if (error._tag !== "InvalidArgument") return
      assert.strictEqual(error.operation, "register")
      assert.strictEqual(error.argument, argument)
      assert.deepStrictEqual(yield* actions.resume(), { resumed: [], carried: [] })
      assert.deepStrictEqual((yield* actions.execute(good, { n: 0 })).output, { n: 1 })
    }).pipe(provideActions))

  it.effect("start refuses an application that is not a valid name with InvalidArgument", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const deploy = Action.make("deploy", [step("a", makeLog())])
      yield* actions.register(deploy)
      const error = yield* Effect.flip(actions.start(deploy, { n: 0 }, { application: "a".repeat(257) }))
      assert.strictEqual(error._tag, "InvalidArgument")
    }).pipe(provideActions))
})

describe("Actions (class 7: a typed result is never another action's)", () => {
  it.effect("await of another action fails with ActionNotFound while the deployment runs in this process", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const x = Action.make("x", [gated("wait", gate)])
      const y = Action.make("y", [step("a", makeLog())])
      const actions = yield* Actions.Actions
      yield* actions.register(x)
      yield* actions.register(y)
      const idOfX = yield* actions.start(x, { n: 0 })
      const error = yield* Effect.flip(actions.await(y, idOfX))
      assert.strictEqual(error._tag, "ActionNotFound")
      if (error._tag !== "ActionNotFound") return
      assert.strictEqual(error.action, "y")
      assert.include(error.message, `deployment ${idOfX} belongs to action "x"`)
      yield* Deferred.succeed(gate, undefined)
      assert.deepStrictEqual((yield* actions.await(x, idOfX)).output, { n: 0 })
    }).pipe(provideActions))

  it.effect("await of another action fails with ActionNotFound once the deployment has finished", () =>
    Effect.gen(function*() {
      const x = Action.make("x", [step("a", makeLog())])
      const y = Action.make("y", [step("a", makeLog())])
      const actions = yield* Actions.Actions
      yield* actions.register(x)
      yield* actions.register(y)
      const { deploymentId } = yield* actions.execute(x, { n: 0 })
      assert.strictEqual((yield* Effect.flip(actions.await(y, deploymentId)))._tag, "ActionNotFound")
    }).pipe(provideActions))

  it.effect("await of another definition with the same name, registered for another application, fails while it runs", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const x = Action.make("deploy", [gated("wait", gate)])
      const sameName = Action.make("deploy", [step("a", makeLog())])
      const actions = yield* Actions.Actions
      yield* actions.register(x, { application: "one" })
      yield* actions.register(sameName, { application: "two" })
      const idOfX = yield* actions.start(x, { n: 0 }, { application: "one" })
      const error = yield* Effect.flip(actions.await(sameName, idOfX))
      assert.strictEqual(error._tag, "ActionNotFound")
      yield* Deferred.succeed(gate, undefined)
    }).pipe(provideActions))

  it.effect("await of an action registered for two applications returns the deployment of either", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const x = Action.make("x", [gated("wait", gate)])
      const actions = yield* Actions.Actions
      yield* actions.register(x, { application: "one" })
      yield* actions.register(x, { application: "two" })
      const id = yield* actions.start(x, { n: 3 }, { application: "two" })
      const waiting = yield* Effect.forkChild(actions.await(x, id))
      yield* Deferred.succeed(gate, undefined)
      assert.deepStrictEqual((yield* Fiber.join(waiting)).output, { n: 3 })
    }).pipe(provideActions))

  it.effect("await of another action fails with ActionNotFound while the deployment runs in another process", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const gate = yield* Deferred.make<void>()
      const x = Action.make("x", [gated("wait", gate)])
      const y = Action.make("y", [step("a", makeLog())])
      const first = yield* startProcess(store, "process-1")
      const second = yield* startProcess(store, "process-2")
      yield* first.actions.register(x)
      yield* second.actions.register(y)
      const idOfX = yield* first.actions.start(x, { n: 0 })
      assert.strictEqual((yield* Effect.flip(second.actions.await(y, idOfX)))._tag, "ActionNotFound")
      yield* Deferred.succeed(gate, undefined)
      yield* first.shutdown
      yield* second.shutdown
    }))

  it.effect("execute with a key another action uses returns its own deployment, never the other's", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const x = Action.make("x", [gated("wait", gate)])
      const y = Action.make("y", [step("a", makeLog())])
      const actions = yield* Actions.Actions
      yield* actions.register(x)
      yield* actions.register(y)
      const idOfX = yield* actions.start(x, { n: 0 }, { key: "shared" })
      const result = yield* actions.execute(y, { n: 10 }, { key: "shared" })
      assert.notStrictEqual(result.deploymentId, idOfX)
      assert.deepStrictEqual(result.output, { n: 11 })
      yield* Deferred.succeed(gate, undefined)
    }).pipe(provideActions))
})

describe("Actions (class 9: inputs never cause defects)", () => {
  interface Tree {
    readonly children: ReadonlyArray<Tree>
  }
  const Tree: Schema.Codec<Tree> = Schema.Struct({ children: Schema.Array(Schema.suspend(() => Tree)) })
  const deepTree = (depth: number): Tree => {
    let tree: Tree = { children: [] }
    for (let level = 0; level < depth; level++) tree = { children: [tree] }
    return tree
  }

  it.effect("start with an input nested 10,000 levels deep fails with InputValidationError, creating nothing", () =>
    Effect.gen(function*() {
      const log = makeLog()
      const plant = Job.make("plant", {
        input: Tree,
        output: Tree,
        execute: (tree) => Effect.as(log.add("plant"), tree)
      })
      const action = Action.make("forest", [plant])
      const actions = yield* Actions.Actions
      yield* actions.register(action)
      assert.strictEqual(yield* outcomeOf(actions.start(action, deepTree(10_000))), "InputValidationError")
      assert.strictEqual(yield* outcomeOf(actions.execute(action, deepTree(10_000))), "InputValidationError")
      const byName = actions.startByName({ application: "default", action: "forest" }, deepTree(10_000))
      assert.strictEqual(yield* outcomeOf(byName), "InputValidationError")
      assert.deepStrictEqual(log.events, [])
      assert.strictEqual((yield* actions.list()).items.length, 0)
    }).pipe(provideActions))

  it.effect("a job whose output is nested 10,000 levels deep fails with OutputValidationError and rolls back", () =>
    Effect.gen(function*() {
      const log = makeLog()
      const grow = Job.make("grow", {
        input: Counter,
        output: Tree,
        execute: () => Effect.succeed(deepTree(10_000))
      })
      const action = Action.make("forest", [step("first", log), grow])
      const actions = yield* Actions.Actions
      yield* actions.register(action)
      const error = yield* failedDeployment(actions.execute(action, { n: 0 }))
      assert.strictEqual(error.reason, "OutputValidationError")
      assert.strictEqual(error.job, "grow")
      assert.strictEqual(error.status, "rolled_back")
      assert.deepStrictEqual(log.events, ["run first 0", "rollback first in=0 out=1 OutputValidationError"])
    }).pipe(provideActions))

  it.effect("job data nested 10,000 levels deep fails setData with InvalidJobData, which the job can handle", () =>
    Effect.gen(function*() {
      const keep = Job.make("keep", {
        input: Counter,
        output: Schema.String,
        execute: () =>
          Effect.gen(function*() {
            const context = yield* JobContext.JobContext
            return yield* context.setData("tree", Tree, deepTree(10_000)).pipe(
              Effect.as("stored"),
              Effect.catchTag("InvalidJobData", (error) => Effect.succeed(error.issue))
            )
          })
      })
      const action = Action.make("forest", [keep])
      const actions = yield* Actions.Actions
      yield* actions.register(action)
      const { output } = yield* actions.execute(action, { n: 0 })
      assert.include(output, "nested too deeply")
    }).pipe(provideActions))

  it.effect("register of an action whose state's initial value does not fit its schema fails with StateValidationError", () =>
    Effect.gen(function*() {
      const Provisioned = State.make("Provisioned", {
        schema: Schema.Struct({ vms: Schema.Array(Schema.String) }),
        initial: untyped<{ readonly vms: ReadonlyArray<string> }>({ vms: [42] })
      })
      const action = Action.make("deploy", [step("a", makeLog())], { state: Provisioned })
      const actions = yield* Actions.Actions
      const exit = yield* Effect.exit(actions.register(action))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      assert.isFalse(Cause.hasDies(exit.cause))
      const error = Cause.findErrorOption(exit.cause)
      assert.strictEqual(error._tag, "Some")
      if (error._tag !== "Some") return
      assert.instanceOf(error.value, ActionError.StateValidationError)
      if (!(error.value instanceof ActionError.StateValidationError)) return
      assert.strictEqual(error.value.action, "deploy")
      assert.isUndefined(error.value.job)
      assert.strictEqual(error.value.path, "vms[0]")
      assert.include(error.value.message, "the initial state of action \"deploy\" is invalid at vms[0]")
      assert.strictEqual((yield* Effect.flip(actions.start(action, { n: 0 })))._tag, "ActionNotFound")
    }).pipe(provideActions))
})
