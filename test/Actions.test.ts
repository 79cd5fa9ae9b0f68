import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Logger, Option, References, Schedule, Schema, Tracer } from "effect"
import { TestClock } from "effect/testing"
import { Action, ActionError, Actions, DeploymentStore, Job, JobContext, State } from "effect-actions"
import { Boom, Counter, failedDeployment, makeLog, step } from "./support/jobs.ts"

const provideActions = Effect.provide(Actions.layerMemory({ recovery: { enabled: false } }))

describe("Actions", () => {
  describe("execute", () => {
    it.effect("runs the jobs in order and returns the last job's output", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log), step("c", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const result = yield* actions.execute(deploy, { n: 0 })
        assert.deepStrictEqual(result.output, { n: 3 })
        assert.deepStrictEqual(log.events, ["run a 0", "run b 1", "run c 2"])
      }).pipe(provideActions))

    it.effect("persists the deployment as succeeded with every job's input, output and attempt", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy, { application: "shop" })
        yield* TestClock.setTime(1_000)
        const { deploymentId } = yield* actions.execute(deploy, { n: 5 }, { key: "web-1" })
        const deployment = yield* actions.get(deploymentId)
        assert.strictEqual(deployment.status, "succeeded")
        assert.strictEqual(deployment.application, "shop")
        assert.strictEqual(deployment.action, "deploy")
        assert.deepStrictEqual(deployment.key, Option.some("web-1"))
        assert.strictEqual(deployment.fingerprint, "[\"a\",\"b\"]")
        assert.deepStrictEqual(deployment.output, Option.some({ n: 7 }))
        assert.deepStrictEqual(deployment.owner, Option.none())
        assert.deepStrictEqual(
          deployment.jobs.map((job) => [job.name, job.status, job.input, job.output, job.attempts]),
          [
            ["a", "succeeded", Option.some({ n: 5 }), Option.some({ n: 6 }), 1],
            ["b", "succeeded", Option.some({ n: 6 }), Option.some({ n: 7 }), 1]
          ]
        )
        assert.isTrue(deployment.jobs.every((job) => Option.isSome(job.startedAt) && Option.isSome(job.finishedAt)))
      }).pipe(provideActions))

    it.effect("runs pre-hooks, execute and post-hooks in order, each receiving the previous value", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const hooked = Job.make("hooked", {
          input: Counter,
          output: Counter,
          preHooks: [
            ({ n }) => Effect.as(log.add(`pre1 ${n}`), { n: n * 10 }),
            ({ n }) => Effect.as(log.add(`pre2 ${n}`), { n: n + 1 })
          ],
          execute: ({ n }) => Effect.as(log.add(`execute ${n}`), { n: n * 2 }),
          postHooks: [
            ({ n }) => Effect.as(log.add(`post1 ${n}`), { n: n + 100 }),
            ({ n }) => Effect.as(log.add(`post2 ${n}`), { n: -n })
          ]
        })
        const action = Action.make("hooks", [hooked])
        const actions = yield* Actions.Actions
        yield* actions.register(action)
        const result = yield* actions.execute(action, { n: 1 })
        assert.deepStrictEqual(log.events, ["pre1 1", "pre2 10", "execute 11", "post1 22", "post2 122"])
        assert.deepStrictEqual(result.output, { n: -122 })
      }).pipe(provideActions))

    it.effect("stops a job at its first failing pre-hook: execute and post-hooks never run", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const guarded = Job.make("guarded", {
          input: Counter,
          output: Counter,
          preHooks: [() => Effect.fail(new Boom({ job: "guarded" })), (value) => Effect.as(log.add("pre2"), value)],
          execute: (value) => Effect.as(log.add("execute"), value),
          postHooks: [(value) => Effect.as(log.add("post"), value)]
        })
        const action = Action.make("guarded", [guarded])
        const actions = yield* Actions.Actions
        yield* actions.register(action)
        const error = yield* failedDeployment(actions.execute(action, { n: 1 }))
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.deepStrictEqual(log.events, [])
        const [entry] = yield* actions.errors(error.deploymentId)
        assert.strictEqual(entry!.phase, "pre_hook")
        assert.strictEqual(entry!.tag, "Boom")
      }).pipe(provideActions))

    it.effect("runs an action given by names, decoding its input with the first job's schema", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy, { application: "shop" })
        const result = yield* actions.executeByName({ application: "shop", action: "deploy" }, { n: 41 })
        assert.deepStrictEqual(result.output, { n: 42 })
        const error = yield* Effect.flip(actions.executeByName({ application: "shop", action: "deploy" }, { n: "x" }))
        assert.strictEqual(error._tag, "InputValidationError")
      }).pipe(provideActions))

    it.effect("retries a failing execute with the job's schedule within one attempt", () =>
      Effect.gen(function*() {
        let calls = 0
        const flaky = Job.make("flaky", {
          input: Counter,
          output: Counter,
          retry: Schedule.recurs(3),
          execute: ({ n }) =>
            Effect.gen(function*() {
              calls++
              const context = yield* JobContext.JobContext
              assert.strictEqual(context.attempt, 1)
              if (calls < 3) return yield* new Boom({ job: "flaky" })
              return { n: n + 1 }
            })
        })
        const action = Action.make("flaky", [flaky])
        const actions = yield* Actions.Actions
        yield* actions.register(action)
        const result = yield* actions.execute(action, { n: 0 })
        assert.deepStrictEqual(result.output, { n: 1 })
        assert.strictEqual(calls, 3)
      }).pipe(provideActions))
  })

  describe("rollback", () => {
    it.effect("rolls back the failing job, then the completed jobs in reverse order, with their inputs and outputs", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log), step("c", log, { fails: true }), step("d", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.deepStrictEqual(log.events, [
          "run a 0",
          "run b 1",
          "run c 2",
          "rollback c in=2 out=none Boom",
          "rollback b in=1 out=2 Boom",
          "rollback a in=0 out=1 Boom"
        ])
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.strictEqual(error.status, "rolled_back")
        assert.strictEqual(error.job, "c")
        assert.strictEqual(error.reason, "Boom")
        assert.deepStrictEqual(error.rollbackFailures, [])
        assert.instanceOf(error.error, Boom)
        const deployment = yield* actions.get(error.deploymentId)
        assert.strictEqual(deployment.status, "rolled_back")
        assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rolled_back", "rolled_back", "pending"])
        const failure = Option.getOrThrow(deployment.failure)
        assert.strictEqual(failure.job, "c")
        assert.strictEqual(failure.phase, "execute")
        assert.deepStrictEqual(failure.detail, Option.some({ _tag: "Boom", job: "c" }))
      }).pipe(provideActions))

    it.effect("keeps rolling back after a rollback fails or throws, and ends rollback_failed listing every failure", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [
          step("a", log),
          step("b", log, { rollbackFails: "defect" }),
          step("c", log, { rollbackFails: "error" }),
          step("d", log, { fails: true })
        ])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.deepStrictEqual(log.events.filter((event) => event.startsWith("rollback")), [
          "rollback d in=3 out=none Boom",
          "rollback c in=2 out=3 Boom",
          "rollback b in=1 out=2 Boom",
          "rollback a in=0 out=1 Boom"
        ])
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.strictEqual(error.status, "rollback_failed")
        assert.deepStrictEqual(error.rollbackFailures.map((f) => [f.job, f.tag]), [["c", "Boom"], ["b", "Defect"]])
        const deployment = yield* actions.get(error.deploymentId)
        assert.strictEqual(deployment.status, "rollback_failed")
        assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rollback_failed", "rollback_failed", "rolled_back"])
        const entries = yield* actions.errors(error.deploymentId)
        assert.deepStrictEqual(entries.map((entry) => [entry.phase, Option.getOrNull(entry.job), entry.message]), [
          ["execute", "d", "d exploded"],
          ["rollback", "c", "rollback: c exploded"],
          ["rollback", "b", "rollback: rollback of b threw"]
        ])
      }).pipe(provideActions))

    it.effect("never runs the jobs after the failing one", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log, { fails: true }), step("b", log), step("c", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        yield* Effect.flip(actions.execute(deploy, { n: 0 }))
        assert.deepStrictEqual(log.events, ["run a 0", "rollback a in=0 out=none Boom"])
      }).pipe(provideActions))

    it.effect("marks jobs without a rollback as rolled back once the rollback is done", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log, { noRollback: true }), step("b", log), step("c", log, { fails: true, noRollback: true })])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.deepStrictEqual(log.events.filter((event) => event.startsWith("rollback")), ["rollback b in=1 out=2 Boom"])
        const deployment = yield* actions.get(error.deploymentId)
        assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rolled_back", "rolled_back"])
      }).pipe(provideActions))

    it.effect("treats a defect in execute as a failure and rolls back", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const crashing = Job.make("crashing", {
          input: Counter,
          output: Counter,
          execute: () => Effect.die(new Error("kaboom"))
        })
        const deploy = Action.make("deploy", [step("a", log), crashing])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.strictEqual(error.reason, "Defect")
        assert.strictEqual(error.failureMessage, "kaboom")
        assert.deepStrictEqual(log.events, ["run a 0", "rollback a in=0 out=1 Defect"])
      }).pipe(provideActions))

    it.effect("fails the job whose output does not fit its schema, and rolls back", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const liar = Job.make("liar", {
          input: Counter,
          output: Schema.Struct({ n: Schema.Number.check(Schema.isGreaterThan(100)) }),
          execute: ({ n }) => Effect.succeed({ n }),
          rollback: ({ output }) => log.add(`rollback liar ${Option.isNone(output)}`)
        })
        const deploy = Action.make("deploy", [step("a", log), liar])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.strictEqual(error.reason, "OutputValidationError")
        assert.include(error.failureMessage, "liar")
        assert.include(error.failureMessage, "n")
        assert.deepStrictEqual(log.events, ["run a 0", "rollback liar true", "rollback a in=0 out=1 OutputValidationError"])
        const deployment = yield* actions.get(error.deploymentId)
        assert.strictEqual(Option.getOrThrow(deployment.failure).phase, "output")
      }).pipe(provideActions))

    it.effect("fails with JobNilOutput when a job returns undefined where its schema forbids it", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const forgetful = Job.make("forgetful", {
          input: Counter,
          output: Counter,
          execute: () => Effect.succeed(undefined as unknown as Counter)
        })
        const deploy = Action.make("deploy", [step("a", log), forgetful])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.strictEqual(error.reason, "JobNilOutput")
        assert.deepStrictEqual(log.events, ["run a 0", "rollback a in=0 out=1 JobNilOutput"])
      }).pipe(provideActions))

    it.effect("accepts undefined output where the schema allows it", () =>
      Effect.gen(function*() {
        const quiet = Job.make("quiet", {
          input: Counter,
          output: Schema.UndefinedOr(Counter),
          execute: () => Effect.succeed(undefined)
        })
        const action = Action.make("quiet", [quiet])
        const actions = yield* Actions.Actions
        yield* actions.register(action)
        const result = yield* actions.execute(action, { n: 0 })
        assert.strictEqual(result.output, undefined)
      }).pipe(provideActions))

    it.effect("fails a job that runs past its timeout, and rolls back", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const slow = Job.make("slow", {
          input: Counter,
          output: Counter,
          timeout: "1 minute",
          execute: (value) => Effect.as(Effect.sleep("1 hour"), value),
          rollback: ({ output }) => log.add(`rollback slow ${Option.isNone(output)}`)
        })
        const deploy = Action.make("deploy", [step("a", log), slow])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const fiber = yield* Effect.forkChild(failedDeployment(actions.execute(deploy, { n: 0 })))
        yield* TestClock.adjust("2 minutes")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.strictEqual(error.reason, "JobTimeout")
        assert.deepStrictEqual(log.events, ["run a 0", "rollback slow true", "rollback a in=0 out=1 JobTimeout"])
      }).pipe(provideActions))
  })

  describe("stop", () => {
    it.effect("stops a deployment during a long job and rolls back with ExecutionStopped", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const started = yield* Deferred.make<void>()
        const long = Job.make("long", {
          input: Counter,
          output: Counter,
          execute: (value) =>
            Effect.andThen(Deferred.succeed(started, undefined), Effect.as(Effect.sleep("10 hours"), value)),
          rollback: ({ output }) => log.add(`rollback long ${Option.isNone(output)}`)
        })
        const deploy = Action.make("deploy", [step("a", log), long, step("c", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const id = yield* actions.start(deploy, { n: 0 })
        yield* Deferred.await(started)
        yield* actions.stop(id)
        const error = yield* failedDeployment(actions.awaitById(id))
        assert.strictEqual(error._tag, "DeploymentFailed")
        if (error._tag !== "DeploymentFailed") return
        assert.strictEqual(error.reason, "ExecutionStopped")
        assert.strictEqual(error.job, "long")
        assert.strictEqual(error.status, "rolled_back")
        assert.deepStrictEqual(log.events, ["run a 0", "rollback long true", "rollback a in=0 out=1 ExecutionStopped"])
        const deployment = yield* actions.get(id)
        assert.strictEqual(deployment.status, "rolled_back")
        assert.isTrue(deployment.stopRequested)
      }).pipe(provideActions))

    it.effect("fails with DeploymentNotFound for an unknown id and DeploymentNotRunning once finished", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const unknown = yield* Effect.flip(actions.stop("no-such-deployment"))
        assert.strictEqual(unknown._tag, "DeploymentNotFound")
        const { deploymentId } = yield* actions.execute(deploy, { n: 0 })
        const finished = yield* Effect.flip(actions.stop(deploymentId))
        assert.strictEqual(finished._tag, "DeploymentNotRunning")
        if (finished._tag === "DeploymentNotRunning") assert.strictEqual(finished.status, "succeeded")
      }).pipe(provideActions))
  })

  describe("keys", () => {
    it.effect("starting the same (application, action, key) twice joins the running deployment", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const gate = yield* Deferred.make<void>()
        const gated = Job.make("gated", {
          input: Counter,
          output: Counter,
          execute: ({ n }) => Effect.andThen(Deferred.await(gate), Effect.as(log.add("gated"), { n: n + 1 }))
        })
        const deploy = Action.make("deploy", [gated])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const first = yield* actions.start(deploy, { n: 1 }, { key: "k" })
        const second = yield* actions.start(deploy, { n: 100 }, { key: "k" })
        assert.strictEqual(second, first)
        const joined = yield* Effect.forkChild(actions.execute(deploy, { n: 7 }, { key: "k" }))
        yield* Deferred.succeed(gate, undefined)
        const result = yield* Fiber.join(joined)
        assert.deepStrictEqual(result, { deploymentId: first, output: { n: 2 } })
        assert.deepStrictEqual(log.events, ["gated"])
        const page = yield* actions.list()
        assert.strictEqual(page.items.length, 1)
      }).pipe(provideActions))

    it.effect("returns a finished deployment's result, or its failure, without running it again", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const good = Action.make("good", [step("a", log)])
        const bad = Action.make("bad", [step("b", log, { fails: true })])
        const actions = yield* Actions.Actions
        yield* actions.register(good)
        yield* actions.register(bad)
        const first = yield* actions.execute(good, { n: 1 }, { key: "k" })
        const again = yield* actions.execute(good, { n: 50 }, { key: "k" })
        assert.deepStrictEqual(again, first)
        const failed = yield* failedDeployment(actions.execute(bad, { n: 1 }, { key: "k" }))
        const failedAgain = yield* failedDeployment(actions.execute(bad, { n: 1 }, { key: "k" }))
        assert.strictEqual(failedAgain._tag, "DeploymentFailed")
        if (failed._tag !== "DeploymentFailed" || failedAgain._tag !== "DeploymentFailed") return
        assert.strictEqual(failedAgain.deploymentId, failed.deploymentId)
        assert.strictEqual(failedAgain.reason, "Boom")
        assert.instanceOf(failedAgain.error, Boom, "the stored failure decodes back with the job's error schema")
        assert.deepStrictEqual(log.events, ["run a 1", "run b 1", "rollback b in=1 out=none Boom"])
      }).pipe(provideActions))

    it.effect("keys are per (application, action): another application's key does not collide", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy, { application: "ab" })
        yield* actions.register(Action.make("bdeploy", [step("a", log)]), { application: "a" })
        const one = yield* actions.execute(deploy, { n: 1 }, { application: "ab", key: "k" })
        const other = yield* actions.executeByName({ application: "a", action: "bdeploy" }, { n: 1 }, { key: "k" })
        assert.notStrictEqual(one.deploymentId, other.deploymentId)
      }).pipe(provideActions))
  })

  describe("bad input and definitions", () => {
    it.effect("refuses invalid input with InputValidationError naming action, job and path, creating nothing", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("first", log), step("second", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* Effect.flip(actions.execute(deploy, { n: "not a number" } as unknown as Counter))
        assert.strictEqual(error._tag, "InputValidationError")
        if (error._tag !== "InputValidationError") return
        assert.strictEqual(error.action, "deploy")
        assert.strictEqual(error.job, "first")
        assert.strictEqual(error.path, "n")
        assert.include(error.message, "deploy")
        assert.deepStrictEqual(log.events, [])
        assert.strictEqual((yield* actions.list()).items.length, 0)
      }).pipe(provideActions))

    it.effect("fails with ActionNotFound for an action that is not registered", () =>
      Effect.gen(function*() {
        const deploy = Action.make("deploy", [step("a", makeLog())])
        const actions = yield* Actions.Actions
        const typed = yield* Effect.flip(actions.execute(deploy, { n: 0 }))
        assert.strictEqual(typed._tag, "ActionNotFound")
        const byName = yield* Effect.flip(actions.executeByName({ application: "x", action: "deploy" }, { n: 0 }))
        assert.strictEqual(byName._tag, "ActionNotFound")
        yield* actions.register(deploy, { application: "one" })
        yield* actions.register(deploy, { application: "two" })
        const ambiguous = yield* Effect.flip(actions.execute(deploy, { n: 0 }))
        assert.strictEqual(ambiguous._tag, "ActionNotFound")
        assert.include(ambiguous.message, "one, two")
        const other = Action.make("deploy", [step("a", makeLog())])
        const wrongDefinition = yield* Effect.flip(actions.execute(other, { n: 0 }, { application: "one" }))
        assert.strictEqual(wrongDefinition._tag, "ActionNotFound")
      }).pipe(provideActions))

    it.effect("fails with ActionAlreadyRegistered when a pair is registered twice", () =>
      Effect.gen(function*() {
        const deploy = Action.make("deploy", [step("a", makeLog())])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy, { application: "shop" })
        const error = yield* Effect.flip(actions.register(deploy, { application: "shop" }))
        assert.strictEqual(error._tag, "ActionAlreadyRegistered")
      }).pipe(provideActions))

    it.effect("refuses to register an action with duplicate job names", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("a", log)])
        const actions = yield* Actions.Actions
        const error = yield* Effect.flip(actions.register(deploy))
        assert.strictEqual(error._tag, "DuplicateJobName")
      }).pipe(provideActions))
  })

  describe("state and job data", () => {
    const Provisioned = State.make("Provisioned", {
      schema: Schema.Struct({ vms: Schema.Array(Schema.String) }),
      initial: { vms: [] }
    })
    const provision = (name: string, log: ReturnType<typeof makeLog>) =>
      Job.make(name, {
        input: Counter,
        output: Counter,
        execute: ({ n }) =>
          Effect.gen(function*() {
            const context = yield* JobContext.JobContext
            yield* Provisioned.update((state) => ({ vms: [...state.vms, `${name}-${context.deploymentId}`] }))
            yield* context.setData("vm", Schema.String, `${name}-vm-${n}`)
            return { n: n + 1 }
          }),
        rollback: () =>
          Effect.gen(function*() {
            const context = yield* JobContext.JobContext
            const vm = yield* context.getData("vm", Schema.String)
            const state = yield* Provisioned.get
            yield* log.add(`rollback ${name} vm=${Option.getOrElse(vm, () => "none")} state=${state.vms.length}`)
          })
      })

    it.effect("lets rollbacks read the job data execute saved and the state later jobs left", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [provision("a", log), provision("b", log), step("c", log, { fails: true })], {
          state: Provisioned
        })
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error._tag, "DeploymentFailed")
        assert.deepStrictEqual(log.events.filter((event) => event.startsWith("rollback")), [
          "rollback c in=2 out=none Boom",
          "rollback b vm=b-vm-1 state=2",
          "rollback a vm=a-vm-0 state=2"
        ])
      }).pipe(provideActions))

    it.effect("persists the state with the deployment", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [provision("a", log), provision("b", log)], { state: Provisioned })
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const { deploymentId } = yield* actions.execute(deploy, { n: 0 })
        const deployment = yield* actions.get(deploymentId)
        assert.deepStrictEqual(deployment.state, Option.some({ vms: [`a-${deploymentId}`, `b-${deploymentId}`] }))
      }).pipe(provideActions))

    it.effect("gives concurrent deployments of one action their own state", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [provision("a", log), provision("b", log)], { state: Provisioned })
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const results = yield* Effect.forEach(
          Array.from({ length: 20 }, (_, n) => n),
          (n) => actions.execute(deploy, { n }),
          { concurrency: "unbounded" }
        )
        for (const { deploymentId } of results) {
          const deployment = yield* actions.get(deploymentId)
          assert.deepStrictEqual(deployment.state, Option.some({ vms: [`a-${deploymentId}`, `b-${deploymentId}`] }))
        }
      }).pipe(provideActions))

    it.effect("fails the job that leaves an invalid state, and persists nothing invalid", () =>
      Effect.gen(function*() {
        const Positive = State.make("Positive", { schema: Schema.Number.check(Schema.isGreaterThan(0)), initial: 1 })
        const breaker = Job.make("breaker", {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.as(Positive.set(-5), value)
        })
        const deploy = Action.make("deploy", [breaker], { state: Positive })
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error._tag, "DeploymentFailed")
        if (error._tag !== "DeploymentFailed") return
        assert.strictEqual(error.reason, "StateValidationError")
        const deployment = yield* actions.get(error.deploymentId)
        assert.deepStrictEqual(deployment.state, Option.some(1))
      }).pipe(provideActions))

    it.effect("refuses job data that does not fit its schema with InvalidJobData", () =>
      Effect.gen(function*() {
        const picky = Job.make("picky", {
          input: Counter,
          output: Counter,
          execute: (value) =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              const error = yield* Effect.flip(context.setData("n", Schema.Number.check(Schema.isGreaterThan(0)), -1))
              assert.strictEqual(error._tag, "InvalidJobData")
              assert.isTrue(Option.isNone(yield* context.getData("n", Schema.Number)))
              return value
            })
        })
        const action = Action.make("picky", [picky])
        const actions = yield* Actions.Actions
        yield* actions.register(action)
        yield* actions.execute(action, { n: 1 })
      }).pipe(provideActions))
  })

  describe("queries", () => {
    it.effect("lists deployments newest first, filtered by status, application and action, page by page", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const good = Action.make("good", [step("a", log)])
        const bad = Action.make("bad", [step("a", log, { fails: true })])
        const actions = yield* Actions.Actions
        yield* actions.register(good, { application: "shop" })
        yield* actions.register(bad, { application: "shop" })
        const ids: Array<string> = []
        for (let n = 0; n < 5; n++) {
          yield* TestClock.adjust("1 second")
          ids.push((yield* actions.execute(good, { n })).deploymentId)
        }
        yield* TestClock.adjust("1 second")
        const failed = yield* failedDeployment(actions.execute(bad, { n: 0 }))
        const succeeded = yield* actions.list({ statuses: ["succeeded"] })
        assert.deepStrictEqual(succeeded.items.map((d) => d.id), [...ids].reverse())
        const rolledBack = yield* actions.list({ statuses: ["rolled_back"], application: "shop", action: "bad" })
        assert.deepStrictEqual(rolledBack.items.map((d) => d.id), [failed._tag === "DeploymentFailed" ? failed.deploymentId : ""])
        const first = yield* actions.list({ action: "good", limit: 2 })
        const second = yield* actions.list({ action: "good", limit: 2, cursor: Option.getOrThrow(first.next) })
        assert.deepStrictEqual([...first.items, ...second.items].map((d) => d.id), [ids[4], ids[3], ids[2], ids[1]])
      }).pipe(provideActions))

    it.effect("reads the error log of a deployment, or of one job", () =>
      Effect.gen(function*() {
        const noisy = Job.make("noisy", {
          input: Counter,
          output: Counter,
          execute: (value) =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              yield* context.recordError(new Boom({ job: "noisy" }))
              return value
            })
        })
        const log = makeLog()
        const deploy = Action.make("deploy", [noisy, step("b", log, { fails: true })])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const error = yield* failedDeployment(actions.execute(deploy, { n: 0 }))
        if (error._tag !== "DeploymentFailed") return assert.fail(error.message)
        const all = yield* actions.errors(error.deploymentId)
        assert.deepStrictEqual(all.map((entry) => [Option.getOrNull(entry.job), entry.tag]), [["noisy", "Boom"], ["b", "Boom"]])
        const justB = yield* actions.errors(error.deploymentId, { job: "b" })
        assert.deepStrictEqual(justB.map((entry) => entry.message), ["b exploded"])
        const unknown = yield* Effect.flip(actions.errors("nope"))
        assert.strictEqual(unknown._tag, "DeploymentNotFound")
      }).pipe(provideActions))

    it.effect("awaits a deployment that already finished, reading its output back from the store", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const actions = yield* Actions.Actions
        yield* actions.register(deploy)
        const { deploymentId } = yield* actions.execute(deploy, { n: 1 })
        const again = yield* actions.await(deploy, deploymentId)
        assert.deepStrictEqual(again.output, { n: 2 })
        const missing = yield* Effect.flip(actions.awaitById("nope"))
        assert.strictEqual(missing._tag, "DeploymentNotFound")
      }).pipe(provideActions))
  })

  describe("prune", () => {
    it.effect("deletes finished deployments older than the cutoff, keeping running and recent ones", () =>
      Effect.gen(function*() {
        const log = makeLog()
        const gate = yield* Deferred.make<void>()
        const waiting = Job.make("waiting", {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.as(Deferred.await(gate), value)
        })
        const quick = Action.make("quick", [step("a", log)])
        const slow = Action.make("slow", [waiting])
        const actions = yield* Actions.Actions
        yield* actions.register(quick)
        yield* actions.register(slow)
        const old = yield* actions.execute(quick, { n: 0 })
        const stillRunning = yield* actions.start(slow, { n: 0 })
        yield* TestClock.adjust("2 days")
        const recent = yield* actions.execute(quick, { n: 1 })
        assert.strictEqual(yield* actions.prune({ olderThan: "1 day" }), 1)
        assert.strictEqual((yield* Effect.flip(actions.get(old.deploymentId)))._tag, "DeploymentNotFound")
        assert.strictEqual((yield* actions.get(stillRunning)).status, "running")
        assert.strictEqual((yield* actions.get(recent.deploymentId)).status, "succeeded")
        yield* Deferred.succeed(gate, undefined)
      }).pipe(provideActions))
  })

  describe("store faults", () => {
    it.effect("retries reads that fail with a transient PersistenceError, and reports the others", () =>
      Effect.gen(function*() {
        const memory = yield* DeploymentStore.makeMemory
        let failures = 0
        const attempts: Array<number> = []
        const flaky: DeploymentStore.DeploymentStoreShape = {
          ...memory,
          get: (id) =>
            Effect.flatMap(Clock.currentTimeMillis, (at) => {
              attempts.push(at)
              return failures-- > 0
                ? Effect.fail(new ActionError.PersistenceError({ reason: "connection", operation: "get", detail: "flaky" }))
                : memory.get(id)
            }),
          list: () => Effect.fail(new ActionError.PersistenceError({ reason: "invalid", operation: "list", detail: "refused" }))
        }
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          yield* actions.register(deploy)
          const { deploymentId } = yield* actions.execute(deploy, { n: 0 })
          failures = 4
          attempts.length = 0
          const read = yield* Effect.forkChild(actions.get(deploymentId))
          yield* TestClock.adjust("1 second")
          assert.strictEqual((yield* Fiber.join(read)).status, "succeeded")
          // Four retries after the first attempt, backing off 25, 50, 100 and 200 ms.
          assert.deepStrictEqual(attempts.slice(1).map((at, i) => at - attempts[i]!), [25, 50, 100, 200])
          const refused = yield* Effect.flip(actions.list())
          assert.strictEqual(refused._tag, "PersistenceError")
        }).pipe(
          Effect.provide(Actions.layer({ recovery: { enabled: false } })),
          Effect.provideService(DeploymentStore.DeploymentStore, flaky)
        )
      }))
  })

  describe("logging", () => {
    it.effect("annotates a job's logs with its deployment, job and attempt, over the caller's own annotations", () =>
      Effect.gen(function*() {
        const lines: Array<{ message: unknown; annotations: Record<string, unknown> }> = []
        const capture = Logger.make(({ fiber, message }) => {
          lines.push({ message, annotations: { ...fiber.getRef(References.CurrentLogAnnotations) } })
        })
        const logged = Job.make("logged", {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.as(Effect.logInfo("inside the job"), value)
        })
        const deploy = Action.make("deploy", [logged])
        const { deploymentId } = yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          yield* actions.register(deploy, { application: "shop" })
          const receipt = yield* actions.execute(deploy, { n: 0 })
          yield* Effect.logInfo("after the deployment")
          return receipt
        }).pipe(
          provideActions,
          Effect.annotateLogs({ request: "r-1" }),
          Effect.provide(Logger.layer([capture]))
        )
        const inside = lines.find((line) => String(line.message).includes("inside the job"))!
        assert.deepStrictEqual(inside.annotations, {
          request: "r-1",
          deploymentId,
          application: "shop",
          action: "deploy",
          job: "logged",
          attempt: 1
        })
        // The job's annotations end with the job.
        const after = lines.find((line) => String(line.message).includes("after the deployment"))!
        assert.deepStrictEqual(after.annotations, { request: "r-1" })
      }))
  })

  describe("tracing", () => {
    it.effect("opens a span per deployment and per job, with the deployment, action, job and attempt", () =>
      Effect.gen(function*() {
        const spans: Array<{ name: string; attributes: ReadonlyMap<string, unknown> }> = []
        const native = yield* Tracer.Tracer
        const recording = Tracer.make({
          span(options) {
            const span = native.span(options)
            spans.push(span as unknown as { name: string; attributes: ReadonlyMap<string, unknown> })
            return span
          }
        })
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)])
        const { deploymentId } = yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          yield* actions.register(deploy, { application: "shop" })
          return yield* actions.execute(deploy, { n: 0 })
        }).pipe(provideActions, Effect.withTracer(recording))
        const deployments = spans.filter((span) => span.name === "effect-actions.deployment")
        assert.strictEqual(deployments.length, 1)
        assert.strictEqual(deployments[0]!.attributes.get("deployment.id"), deploymentId)
        assert.strictEqual(deployments[0]!.attributes.get("deployment.application"), "shop")
        const jobs = spans.filter((span) => span.name === "effect-actions.job")
        assert.deepStrictEqual(jobs.map((span) => span.attributes.get("job.name")), ["a", "b"])
        assert.deepStrictEqual(jobs.map((span) => span.attributes.get("job.attempt")), [1, 1])
        assert.isTrue(jobs.every((span) => span.attributes.get("deployment.action") === "deploy"))
      }))

    it.effect("parents job spans to their deployment's span, not to the span that was active at registration", () =>
      Effect.gen(function*() {
        type Recorded = { name: string; spanId: string; parent: Option.Option<{ spanId: string }> }
        const spans: Array<Recorded> = []
        const native = yield* Tracer.Tracer
        const recording = Tracer.make({
          span(options) {
            const span = native.span(options)
            spans.push(span as unknown as Recorded)
            return span
          }
        })
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          yield* actions.register(deploy).pipe(Effect.withSpan("request"))
          yield* actions.execute(deploy, { n: 0 })
        }).pipe(provideActions, Effect.withTracer(recording))
        const deployment = spans.find((span) => span.name === "effect-actions.deployment")!
        const job = spans.find((span) => span.name === "effect-actions.job")!
        assert.deepStrictEqual(Option.map(job.parent, (parent) => parent.spanId), Option.some(deployment.spanId))
      }))

    it.effect("makes the job's span the current span inside the job, whatever span registration ran in", () =>
      Effect.gen(function*() {
        const seen: Array<string> = []
        const traced = Job.make("traced", {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.as(Effect.map(Effect.currentSpan, (span) => void seen.push(span.name)), value)
        })
        const deploy = Action.make("deploy", [traced])
        yield* Effect.gen(function*() {
          const actions = yield* Actions.Actions
          yield* actions.register(deploy).pipe(Effect.withSpan("app.setup"))
          yield* actions.execute(deploy, { n: 0 })
        }).pipe(provideActions)
        assert.deepStrictEqual(seen, ["effect-actions.job"])
      }))
  })
})
