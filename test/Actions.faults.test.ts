/**
 * Issue 7 on the memory store: no value, store failure or shutdown leaves a deployment stuck, runs it twice or
 * loses its records. The memory store refuses what PostgreSQL refuses (`\u0000`, unpaired surrogates), so these
 * behaviours hold on both; `test/Actions.postgres.faults.test.ts` runs the PostgreSQL side.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Schema, SchemaTransformation } from "effect"
import { TestClock } from "effect/testing"
import { Action, ActionError, Actions, type DeploymentStore, DeploymentStore as Store, Job, JobContext, State } from "effect-actions"
import { Boom, Counter, failedDeployment, makeLog, step } from "./support/jobs.ts"
import { startProcess } from "./support/processes.ts"
import { jobRow, storedDeployment } from "./support/snapshots.ts"

const leaseTtl = { recovery: { leaseTtl: "30 seconds" } } as const
const nul = "a\u0000b"
const loneSurrogate = "🚀".slice(0, 1)

/** A job that outputs whatever `value` is, as a string field. */
const emits = (name: string, value: string) =>
  Job.make(name, {
    input: Counter,
    output: Schema.Struct({ n: Schema.Number, text: Schema.String }),
    execute: ({ n }) => Effect.succeed({ n: n + 1, text: value })
  })
const reads = (name: string, log: ReturnType<typeof makeLog>) =>
  Job.make(name, {
    input: Schema.Struct({ n: Schema.Number, text: Schema.String }),
    output: Counter,
    execute: ({ n }) => Effect.as(log.add(`run ${name}`), { n })
  })

/** A deployment of `deploy` (jobs `a`, `b`) paused on `b`'s failure, nobody holding it, with these records of `b`. */
const pausedOnB = (deploy: Action.Any, b: DeploymentStore.JobRunRow = jobRow(1, "b", "failed")) =>
  storedDeployment(deploy, {
    status: "paused",
    currentJob: 1,
    owner: undefined,
    leaseExpiresAt: undefined,
    failure: { job: "b", jobIndex: 1, phase: "execute", tag: "Boom", message: "boom" }
  }, [jobRow(0, "a", "succeeded", { n: 1 }), b])

/** A store whose creates commit, then answer with a connection error while `lost` says so. */
const replyLost = (inner: DeploymentStore.DeploymentStoreShape, lost: () => boolean) => ({
  ...inner,
  create: (snapshot: DeploymentStore.Snapshot, options: DeploymentStore.CreateOptions) =>
    Effect.flatMap(inner.create(snapshot, options), (result) =>
      lost()
        ? Effect.fail(new ActionError.PersistenceError({ reason: "connection", operation: "create", detail: "reply lost" }))
        : Effect.succeed(result))
})

/**
 * `effect` held as a write in flight: it tells `entered`, then waits for `gate` (uninterruptibly, as a statement the
 * database already has).
 */
const held = <A, E>(entered: Deferred.Deferred<void>, gate: Deferred.Deferred<void>, effect: Effect.Effect<A, E>) =>
  Effect.andThen(Deferred.succeed(entered, undefined), Effect.uninterruptible(Effect.andThen(Deferred.await(gate), effect)))

/** The discards of `inner`, failing with a connection error while `down` says so. */
const discardsDown = (inner: DeploymentStore.DeploymentStoreShape, down: () => boolean) => (fence: DeploymentStore.Fence) =>
  down()
    ? Effect.fail(new ActionError.PersistenceError({ reason: "connection", operation: "discardCreated", detail: "down" }))
    : inner.discardCreated(fence)

describe("Actions faults (issue 7)", () => {
  describe("class 1: a write that can never succeed never becomes a loop", () => {
    it.effect.each([["\\u0000", nul], ["a lone surrogate", loneSurrogate]] as const)(
      "an output with %s fails its job with UnstorableValue and rolls back, in one run",
      ([, text]) =>
        Effect.gen(function*() {
          const store = yield* Store.makeMemory
          const log = makeLog()
          const process = yield* startProcess(store, "p", leaseTtl)
          const deploy = Action.make("deploy", [step("a", log), emits("b", text), reads("c", log)])
          yield* process.actions.register(deploy)
          const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
          assert.strictEqual(error.status, "rolled_back")
          assert.strictEqual(error.job, "b")
          assert.strictEqual(error.reason, "UnstorableValue")
          assert.deepStrictEqual(log.events, ["run a 0", "rollback a in=0 out=1 UnstorableValue"])
          const deployment = yield* process.actions.get(error.deploymentId)
          assert.strictEqual(deployment.status, "rolled_back")
          assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rolled_back", "pending"])
          const errors = yield* process.actions.errors(error.deploymentId)
          assert.deepStrictEqual(errors.map((entry) => [Option.getOrUndefined(entry.job), entry.tag]), [["b", "UnstorableValue"]])
          assert.match(errors[0]!.message, /output of job "b"/)
          yield* process.shutdown
        })
    )

    it.effect("a state the store cannot hold fails the job that set it, and the rollbacks still checkpoint", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const Notes = State.make("Notes", { schema: Schema.String, initial: "" })
        const scribble = Job.make("scribble", {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.as(Notes.set(nul), value)
        })
        const deploy = Action.make("deploy", [step("a", log), scribble, step("c", log)], { state: Notes })
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error.status, "rolled_back")
        assert.strictEqual(error.job, "scribble")
        assert.strictEqual(error.reason, "UnstorableValue")
        assert.match(error.failureMessage, /state/)
        assert.deepStrictEqual(log.events, ["run a 0", "rollback a in=0 out=1 UnstorableValue"])
        const stored = Option.getOrThrow(yield* store.get(error.deploymentId))
        assert.strictEqual(stored.deployment.state, "", "the state is left as last stored")
        yield* process.shutdown
      }))

    it.effect("failure messages, tags and details are recorded escaped, readable, and the deployment ends", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const failing = Job.make("failing", {
          input: Counter,
          output: Counter,
          execute: () => Effect.fail(new Error(`quota ${nul} ${loneSurrogate}`))
        })
        const deploy = Action.make("deploy", [failing])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error.status, "rolled_back")
        assert.strictEqual(error.failureMessage, "quota a\\u0000b \\ud83d")
        const errors = yield* process.actions.errors(error.deploymentId)
        assert.deepStrictEqual(errors.map((entry) => entry.message), ["quota a\\u0000b \\ud83d"])
        yield* process.shutdown
      }))

    it.effect("a failure message over the limit is cut once, within the limit, saying how much was cut", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        // the rocket stands where the cut falls: its two halves must stay together
        const long = `${"x".repeat(65_509)}🚀${"y".repeat(40_000)}`
        const failing = Job.make("failing", { input: Counter, output: Counter, execute: () => Effect.fail(new Error(long)) })
        const deploy = Action.make("deploy", [failing])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
        const [entry] = yield* process.actions.errors(error.deploymentId)
        for (const message of [error.failureMessage, entry!.message]) {
          assert.isAtMost(message.length, 65_536)
          assert.strictEqual(message.match(/more characters\)/g)?.length, 1, "cut once")
          const cut = Number(/… \((\d+) more characters\)$/.exec(message)?.[1])
          assert.strictEqual(message.indexOf("…") + cut, long.length, "what is kept and what is cut add up")
          assert.isFalse(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(message), "no half of a surrogate pair")
        }
        yield* process.shutdown
      }))

    it.effect("recordError with unstorable text records it escaped; the job goes on", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const noisy = Job.make("noisy", {
          input: Counter,
          output: Counter,
          execute: (value) =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              yield* context.recordError(new Error(nul))
              return value
            })
        })
        const deploy = Action.make("deploy", [noisy])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const result = yield* process.actions.execute(deploy, { n: 0 })
        const errors = yield* process.actions.errors(result.deploymentId)
        assert.deepStrictEqual(errors.map((entry) => entry.message), ["a\\u0000b"])
        yield* process.shutdown
      }))

    it.effect("setData with an unstorable value fails with InvalidJobData, which the job may handle", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const saver = Job.make("saver", {
          input: Counter,
          output: Schema.String,
          execute: () =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              const refused = yield* Effect.flip(context.setData("note", Schema.String, nul))
              yield* context.setData("note", Schema.String, "kept")
              return refused._tag
            })
        })
        const deploy = Action.make("deploy", [saver])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const result = yield* process.actions.execute(deploy, { n: 0 })
        assert.strictEqual(result.output, "InvalidJobData")
        assert.deepStrictEqual(yield* store.getJobData(result.deploymentId, "saver", "note"), Option.some("kept"))
        yield* process.shutdown
      }))

    it.effect("a rollback that fails with unstorable text is recorded as failed, and the earlier rollbacks run", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const badRollback = Job.make("b", {
          input: Counter,
          output: Counter,
          execute: ({ n }) => Effect.succeed({ n: n + 1 }),
          rollback: () => Effect.fail(new Error(nul))
        })
        const deploy = Action.make("deploy", [step("a", log), badRollback, step("c", log, { fails: true })])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error.status, "rollback_failed")
        assert.deepStrictEqual(error.rollbackFailures.map((failure) => [failure.job, failure.message]), [["b", "a\\u0000b"]])
        assert.deepStrictEqual(log.events, ["run a 0", "run c 2", "rollback c in=2 out=none Boom", "rollback a in=0 out=1 Boom"])
        yield* process.shutdown
      }))

    it.effect("a rollback that sets an unstorable state is recorded as failed (UnstorableValue); the earlier rollbacks run", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const Notes = State.make("Notes", { schema: Schema.String, initial: "" })
        const scribbler = Job.make("b", {
          input: Counter,
          output: Counter,
          execute: ({ n }) => Effect.succeed({ n: n + 1 }),
          rollback: () => Notes.set(nul)
        })
        const deploy = Action.make("deploy", [step("a", log), scribbler, step("c", log, { fails: true })], { state: Notes })
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error.status, "rollback_failed")
        assert.deepStrictEqual(error.rollbackFailures.map((failure) => [failure.job, failure.tag]), [["b", "UnstorableValue"]])
        assert.deepStrictEqual(log.events, ["run a 0", "run c 2", "rollback c in=2 out=none Boom", "rollback a in=0 out=1 Boom"])
        const deployment = yield* process.actions.get(error.deploymentId)
        assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rollback_failed", "rolled_back"])
        yield* process.shutdown
      }))
  })

  describe("class 1: the resume limit is the backstop", () => {
    it.effect("a deployment resumed more than maxResumes times without progress fails its job and rolls back", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log), step("c", log)])
        const stuck = storedDeployment(deploy, { currentJob: 1, resumes: 3 }, [
          { ...jobRow(0, "a", "succeeded", { n: 1 }), input: { n: 0 } },
          jobRow(1, "b", "running"),
          jobRow(2, "c", "pending")
        ])
        yield* store.create(stuck, { leaseTtlMillis: 30_000 })
        const process = yield* startProcess(store, "p", { recovery: { leaseTtl: "30 seconds", maxResumes: 3 } })
        yield* process.actions.register(deploy)
        assert.deepStrictEqual((yield* process.actions.resume()).resumed, [stuck.deployment.id])
        const error = yield* failedDeployment(process.actions.awaitById(stuck.deployment.id))
        assert.strictEqual(error.reason, "ResumeLimitExceeded")
        assert.strictEqual(error.job, "b")
        assert.strictEqual(error.status, "rolled_back")
        assert.deepStrictEqual(log.events, ["rollback b in=1 out=none ResumeLimitExceeded", "rollback a in=0 out=1 ResumeLimitExceeded"])
        const deployment = yield* process.actions.get(stuck.deployment.id)
        assert.deepStrictEqual(deployment.jobs.map((job) => job.attempts), [1, 1, 0], "job b was not attempted again")
        assert.strictEqual(deployment.resumes, 0, "the rollback's checkpoints count as progress")
        yield* process.shutdown
      }))

    it.effect("a deployment whose every run dies is failed once it was resumed more than maxResumes times", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const started = yield* Deferred.make<void>()
        const hangs = Job.make("hangs", {
          input: Counter,
          output: Counter,
          execute: () => Effect.andThen(Deferred.succeed(started, undefined), Effect.never),
          rollback: () => log.add("rollback hangs")
        })
        const deploy = Action.make("deploy", [step("a", log), hangs])
        const options = { recovery: { leaseTtl: "30 seconds", maxResumes: 2 } } as const
        const first = yield* startProcess(store, "p0", options)
        yield* first.actions.register(deploy)
        const id = yield* first.actions.start(deploy, { n: 0 })
        yield* Deferred.await(started)
        yield* first.crash
        for (let round = 1; round <= 2; round++) {
          const next = yield* startProcess(store, `p${round}`, options)
          yield* next.actions.register(deploy)
          yield* TestClock.adjust("31 seconds")
          assert.deepStrictEqual((yield* next.actions.resume()).resumed, [id])
          yield* Effect.yieldNow
          assert.strictEqual((yield* next.actions.get(id)).resumes, round)
          yield* next.crash
        }
        const last = yield* startProcess(store, "p3", options)
        yield* last.actions.register(deploy)
        yield* TestClock.adjust("31 seconds")
        assert.deepStrictEqual((yield* last.actions.resume()).resumed, [id])
        const error = yield* failedDeployment(last.actions.awaitById(id))
        assert.strictEqual(error.reason, "ResumeLimitExceeded")
        assert.deepStrictEqual(log.events, ["run a 0", "rollback hangs", "rollback a in=0 out=1 ResumeLimitExceeded"])
        assert.deepStrictEqual((yield* last.actions.get(id)).jobs.map((job) => job.attempts), [1, 3])
        yield* last.shutdown
      }))

    it.effect("in a rollback, the rollback resumed too often is recorded as failed and the earlier ones still run", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log), step("c", log)])
        const failure = { job: "c", jobIndex: 2, phase: "execute" as const, tag: "Boom", message: "c exploded" }
        const stuck = storedDeployment(deploy, { status: "rolling_back", currentJob: 1, resumes: 11, failure }, [
          { ...jobRow(0, "a", "succeeded", { n: 1 }), input: { n: 0 } },
          jobRow(1, "b", "succeeded", { n: 2 }),
          { ...jobRow(2, "c", "rolled_back"), input: { n: 2 } }
        ])
        yield* store.create(stuck, { leaseTtlMillis: 30_000 })
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        yield* process.actions.resume()
        const error = yield* failedDeployment(process.actions.awaitById(stuck.deployment.id))
        assert.strictEqual(error.status, "rollback_failed")
        assert.deepStrictEqual(error.rollbackFailures.map((failure) => [failure.job, failure.tag]), [["b", "ResumeLimitExceeded"]])
        assert.deepStrictEqual(log.events, ["rollback a in=0 out=1 Boom"], "b's rollback did not run again; a's did")
        yield* process.shutdown
      }))

    it.effect("a resumed deployment that reaches a checkpoint has its resume count reset", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)])
        const stuck = storedDeployment(deploy, { resumes: 5 }, [jobRow(0, "a", "running"), jobRow(1, "b", "pending")])
        yield* store.create(stuck, { leaseTtlMillis: 30_000 })
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        yield* process.actions.resume()
        const result = yield* process.actions.awaitById(stuck.deployment.id)
        assert.deepStrictEqual(result.output, { n: 2 })
        assert.strictEqual((yield* process.actions.get(stuck.deployment.id)).resumes, 0)
        yield* process.shutdown
      }))
  })

  describe("class 3: ambiguous failures of start", () => {
    it.effect("a create whose reply was lost is repeated by start, recognised by its id, and runs once", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        let losses = 2
        const store = replyLost(inner, () => losses-- > 0)
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const fiber = yield* Effect.forkChild(process.actions.execute(deploy, { n: 0 }))
        yield* TestClock.adjust("1 second")
        const result = yield* Fiber.join(fiber)
        assert.deepStrictEqual(result.output, { n: 1 })
        assert.deepStrictEqual(log.events, ["run a 0"])
        assert.strictEqual((yield* process.actions.list()).items.length, 1, "one deployment, not one per try")
        yield* process.shutdown
      }))

    it.effect("a start that fails leaves no deployment that will run: the created one is discarded", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        const store = replyLost(inner, () => true)
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const fiber = yield* Effect.forkChild(Effect.flip(process.actions.start(deploy, { n: 0 }, { key: "k" })))
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag, "PersistenceError")
        assert.strictEqual((yield* inner.list({ limit: 10 })).items.length, 0, "the deployment was discarded")
        const other = yield* startProcess(inner, "other", leaseTtl)
        yield* other.actions.register(deploy)
        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual((yield* other.actions.resume()).resumed, [])
        assert.deepStrictEqual(log.events, [])
        yield* other.shutdown
        yield* process.shutdown
      }))

    it.effect("a retry with the key after a failed start joins at once, before the lease would expire", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        let down = true
        const store = {
          ...replyLost(inner, () => down),
          discardCreated: discardsDown(inner, () => down)
        }
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const failed = yield* Effect.forkChild(Effect.flip(process.actions.start(deploy, { n: 0 }, { key: "k" })))
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(failed))._tag, "PersistenceError")
        const [left] = (yield* inner.list({ limit: 10 })).items
        assert.isDefined(left, "the create committed, and could not be discarded yet")
        down = false
        const result = yield* process.actions.execute(deploy, { n: 0 }, { key: "k" })
        assert.strictEqual(result.deploymentId, left!.id)
        assert.deepStrictEqual(log.events, ["run a 0"])
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* process.actions.get(left!.id)).status, "succeeded", "not discarded after it ran")
        yield* process.shutdown
      }))
  })

  describe("class 3b: a failed start at the release of its runtime leaves no deployment that will run", () => {
    /** A store whose creates wait for `gate`, commit, then answer with a connection error (the reply lost). */
    const gatedReplyLost = (inner: DeploymentStore.DeploymentStoreShape, entered: Deferred.Deferred<void>, gate: Deferred.Deferred<void>) => {
      const lost = replyLost(inner, () => true)
      return {
        ...inner,
        create: (snapshot: DeploymentStore.Snapshot, options: DeploymentStore.CreateOptions) =>
          held(entered, gate, lost.create(snapshot, options))
      }
    }

    it.effect("a create under way as the runtime is released, that commits and then fails, is discarded at once", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        const entered = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const process = yield* startProcess(gatedReplyLost(inner, entered, gate), "p", leaseTtl)
        yield* process.actions.register(deploy)
        const failed = yield* Effect.forkChild(Effect.flip(process.actions.start(deploy, { n: 0 }, { key: "k" })))
        yield* Deferred.await(entered)
        yield* process.shutdown
        yield* Deferred.succeed(gate, undefined)
        // The start repeats the create (25 to 200 ms apart), then gives up.
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(failed))._tag, "PersistenceError")
        assert.deepStrictEqual((yield* inner.list({ limit: 10 })).items, [], "discarded, though nothing runs discards now")
        const other = yield* startProcess(inner, "other", leaseTtl)
        yield* other.actions.register(deploy)
        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual((yield* other.actions.resume()).resumed, [], "nothing for another process to run")
        assert.deepStrictEqual(log.events, [])
        yield* other.shutdown
      }))

    it.effect("a start that would take a failed start's deployment back as the runtime is released discards it instead", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        const stage = { repliesLost: true, discardsDown: true, checkpointsHeld: false, createsHeld: false }
        const createEntered = yield* Deferred.make<void>()
        const createGate = yield* Deferred.make<void>()
        const checkpointEntered = yield* Deferred.make<void>()
        const checkpointGate = yield* Deferred.make<void>()
        const lost = replyLost(inner, () => stage.repliesLost)
        const store = {
          ...inner,
          create: (snapshot: DeploymentStore.Snapshot, options: DeploymentStore.CreateOptions) =>
            stage.createsHeld ? held(createEntered, createGate, inner.create(snapshot, options)) : lost.create(snapshot, options),
          discardCreated: discardsDown(inner, () => stage.discardsDown),
          checkpoint: (checkpoint: DeploymentStore.Checkpoint) =>
            stage.checkpointsHeld ? held(checkpointEntered, checkpointGate, inner.checkpoint(checkpoint)) : inner.checkpoint(checkpoint)
        }
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const slow = Action.make("slow", [step("s", log)])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        yield* process.actions.register(slow)
        const failed = yield* Effect.forkChild(Effect.flip(process.actions.start(deploy, { n: 0 }, { key: "k" })))
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(failed))._tag, "PersistenceError")
        const [left] = (yield* inner.list({ limit: 10 })).items
        assert.isDefined(left, "committed, its discard pending")
        Object.assign(stage, { repliesLost: false, checkpointsHeld: true })
        // Another deployment's checkpoint holds the release up, so that the next start's reply comes during it.
        yield* process.actions.start(slow, { n: 0 })
        yield* Deferred.await(checkpointEntered)
        stage.createsHeld = true
        const again = yield* Effect.forkChild(Effect.exit(process.actions.start(deploy, { n: 0 }, { key: "k" })))
        yield* Deferred.await(createEntered)
        const shutdown = yield* Effect.forkChild(process.shutdown)
        yield* TestClock.adjust("1 second")
        // The store answers again only now: the background discard, retrying meanwhile, could not delete it first.
        stage.discardsDown = false
        yield* Deferred.succeed(createGate, undefined)
        const exit = yield* Fiber.join(again)
        assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause), "the second start is interrupted")
        yield* Deferred.succeed(checkpointGate, undefined)
        yield* Fiber.join(shutdown)
        assert.isTrue(Option.isNone(yield* inner.get(left!.id)), "the failed start's deployment is discarded")
        assert.deepStrictEqual(log.events.filter((event) => event.startsWith("run a")), [], "it never ran")
      }))

    it.effect("a discard still waiting for the store when the runtime is released gets a last attempt", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        let down = true
        const store = { ...replyLost(inner, () => true), discardCreated: discardsDown(inner, () => down) }
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const failed = yield* Effect.forkChild(Effect.flip(process.actions.start(deploy, { n: 0 })))
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(failed))._tag, "PersistenceError")
        assert.strictEqual((yield* inner.list({ limit: 10 })).items.length, 1, "committed, not discarded yet")
        // The store answers again, but the background discard's next try is seconds away: the release comes first.
        down = false
        yield* process.shutdown
        assert.deepStrictEqual((yield* inner.list({ limit: 10 })).items, [], "discarded as the runtime was released")
        assert.deepStrictEqual(log.events, [])
      }))
  })

  describe("class 4: shutdown never hangs", () => {
    it.effect("releasing the runtime completes within shutdownTimeout while a checkpoint never returns", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        const entered = yield* Deferred.make<void>()
        const store = {
          ...inner,
          checkpoint: () => Effect.andThen(Deferred.succeed(entered, undefined), Effect.never)
        }
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)])
        const process = yield* startProcess(store, "p", { ...leaseTtl, shutdownTimeout: "2 seconds" })
        yield* process.actions.register(deploy)
        const id = yield* process.actions.start(deploy, { n: 0 })
        yield* Deferred.await(entered)
        const shutdown = yield* Effect.forkChild(process.shutdown)
        yield* TestClock.adjust("1 second")
        assert.isUndefined(shutdown.pollUnsafe(), "still waiting within the bound")
        yield* TestClock.adjust("1 second")
        assert.isTrue(Exit.isSuccess(yield* Fiber.await(shutdown)))
        const stored = Option.getOrThrow(yield* inner.get(id))
        assert.strictEqual(stored.deployment.status, "running", "left for a later resume")
      }))

    it.effect("a stop carried out after a pause, whose store read never returns, holds no other run past shutdownTimeout", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        let stuck: string | undefined
        // A stop lands as the pause is written; reading the paused deployment again, to carry the stop out, never ends.
        const store: DeploymentStore.DeploymentStoreShape = {
          ...inner,
          checkpoint: (checkpoint) =>
            checkpoint.deployment.status === "paused"
              ? Effect.andThen(
                Effect.andThen(inner.requestStop(checkpoint.fence.deploymentId, checkpoint.at), Effect.sync(() => {
                  stuck = checkpoint.fence.deploymentId
                })),
                inner.checkpoint(checkpoint)
              )
              : inner.checkpoint(checkpoint),
          get: (id) => id === stuck ? Effect.never : inner.get(id)
        }
        const log = makeLog()
        const blocked = Action.make("blocked", [Job.make("s", { input: Counter, output: Counter, execute: () => Effect.never })])
        const pausing = Action.make("pausing", [step("a", log), Job.make("b", {
          input: Counter,
          output: Counter,
          error: Boom,
          execute: () => Effect.fail(new Boom({ job: "b" }))
        })], { onFailure: "pause" })
        const process = yield* startProcess(store, "p", { ...leaseTtl, shutdownTimeout: "1 second", withoutStopNotifications: true })
        yield* process.actions.register(blocked)
        yield* process.actions.register(pausing)
        const blockedId = yield* process.actions.start(blocked, { n: 0 })
        const pausedId = yield* process.actions.start(pausing, { n: 0 })
        yield* TestClock.adjust("100 millis")
        assert.strictEqual(stuck, pausedId, "the stop is being carried out")
        // The stop's exit hook gives up after shutdownTimeout; the release then stops the blocked run at once.
        yield* TestClock.adjust("2 seconds")
        const shutdown = yield* Effect.forkChild(process.shutdown)
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(shutdown)
        const left = Option.getOrThrow(yield* inner.get(blockedId)).deployment
        assert.deepStrictEqual([left.status, left.owner], ["running", undefined], "the blocked run gave its lease up")
        const paused = Option.getOrThrow(yield* inner.get(pausedId)).deployment
        assert.deepStrictEqual([paused.status, paused.stopRequested], ["paused", true], "its stop left for an operator")
      }))
  })

  describe("class 4b: a store that dies (a defect, not a PersistenceError) never leaves an await hanging", () => {
    const dies = {
      "its checkpoint's effect dies": () => Effect.die(new Error("driver bug")),
      "its checkpoint throws": () => {
        throw new Error("driver bug")
      }
    }
    for (const [how, die] of Object.entries(dies)) {
      it.effect(`${how}: the local run stops; after the lease lapses a resume finishes what the await waits for`, () =>
        Effect.gen(function*() {
          const inner = yield* Store.makeMemory
          let defects = 1
          const store = {
            ...inner,
            checkpoint: (checkpoint: DeploymentStore.Checkpoint) => defects-- > 0 ? die() : inner.checkpoint(checkpoint)
          }
          const log = makeLog()
          const deploy = Action.make("deploy", [step("a", log), step("b", log)])
          // The store is given as it is (no test connection around it), so that a throw reaches the runtime.
          yield* Effect.gen(function*() {
            const actions = yield* Actions.Actions
            yield* actions.register(deploy)
            const waiting = yield* Effect.forkChild(actions.execute(deploy, { n: 0 }))
            yield* TestClock.adjust("1 second")
            assert.isUndefined(waiting.pollUnsafe(), "the deployment waits for a resume, it is not failed")
            const id = (yield* actions.list()).items[0]!.id
            const stored = Option.getOrThrow(yield* inner.get(id))
            assert.strictEqual(stored.deployment.status, "running", "left for a later resume")
            yield* TestClock.adjust("30 seconds")
            assert.deepStrictEqual((yield* actions.resume()).resumed, [id])
            // The await reads the status between its polls.
            yield* TestClock.adjust("5 seconds")
            const result = yield* Fiber.join(waiting)
            assert.deepStrictEqual(result.output, { n: 2 })
            assert.deepStrictEqual(log.events, ["run a 0", "run a 0", "run b 1"])
          }).pipe(
            Effect.provide(Actions.layer({ ...leaseTtl, recovery: { ...leaseTtl.recovery, enabled: false } })),
            Effect.provideService(Store.DeploymentStore, store)
          )
        }))
    }
  })

  describe("class 4d: a checkpoint that fails transiently is retried in place", () => {
    it.effect("two connection failures, then the write goes through: the run goes on, no job runs twice", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        let failures = 2
        const store = {
          ...inner,
          checkpoint: (checkpoint: DeploymentStore.Checkpoint) =>
            failures-- > 0
              ? Effect.fail(
                new ActionError.PersistenceError({ reason: "connection", operation: "checkpoint", detail: "reset" })
              )
              : inner.checkpoint(checkpoint)
        }
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const waiting = yield* Effect.forkChild(process.actions.execute(deploy, { n: 0 }))
        // The retries wait 25 ms, then 50 ms, on the test clock.
        yield* TestClock.adjust("1 second")
        const result = yield* Fiber.join(waiting)
        assert.deepStrictEqual(result.output, { n: 2 })
        assert.deepStrictEqual(log.events, ["run a 0", "run b 1"])
        assert.deepStrictEqual((yield* process.actions.get(result.deploymentId)).jobs.map((job) => job.attempts), [1, 1])
        yield* process.shutdown
      }))
  })

  describe("class 4c: a run that never started never holds its awaiters", () => {
    it.effect("a deployment created as its runtime shut down gives its lease up, and is awaited to its end, once another process runs it", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        const entered = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        // The create is under way when the runtime is released, and is written after it.
        const store: DeploymentStore.DeploymentStoreShape = {
          ...inner,
          create: (snapshot, options) => held(entered, gate, inner.create(snapshot, options))
        }
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const first = yield* startProcess(store, "first", leaseTtl)
        yield* first.actions.register(deploy)
        const starting = yield* Effect.forkChild(first.actions.start(deploy, { n: 0 }))
        yield* Deferred.await(entered)
        yield* first.shutdown
        yield* Deferred.succeed(gate, undefined)
        // The run's fiber is forked into the closed scope: it is interrupted before it starts.
        const id = yield* Fiber.join(starting)
        assert.isUndefined(Option.getOrThrow(yield* inner.get(id)).deployment.owner, "its lease given up")
        const waiting = yield* Effect.forkChild(first.actions.awaitById(id))
        const second = yield* startProcess(inner, "second", leaseTtl)
        yield* second.actions.register(deploy)
        // At once: the lease need not lapse first.
        assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
        yield* TestClock.adjust("5 seconds")
        const result = yield* Fiber.join(waiting)
        assert.deepStrictEqual(result.output, { n: 1 })
        assert.deepStrictEqual(log.events, ["run a 0"])
        yield* second.shutdown
      }))

    it.effect("a deployment an operator's retry took over as its runtime shut down gives its lease up, and runs elsewhere at once", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        const entered = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        // The take-over is under way when the runtime is released, and is written after it.
        const store: DeploymentStore.DeploymentStoreShape = {
          ...inner,
          takeOver: (request) => held(entered, gate, inner.takeOver(request))
        }
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)], { onFailure: "pause" })
        const paused = pausedOnB(deploy)
        yield* inner.create(paused, { leaseTtlMillis: 30_000 })
        const first = yield* startProcess(store, "first", leaseTtl)
        yield* first.actions.register(deploy)
        const retrying = yield* Effect.forkChild(first.actions.retry(paused.deployment.id))
        yield* Deferred.await(entered)
        yield* first.shutdown
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(retrying)
        const taken = Option.getOrThrow(yield* inner.get(paused.deployment.id)).deployment
        assert.deepStrictEqual([taken.status, taken.owner], ["running", undefined], "taken over, its lease given up")
        const second = yield* startProcess(inner, "second", leaseTtl)
        yield* second.actions.register(deploy)
        assert.deepStrictEqual((yield* second.actions.resume()).resumed, [paused.deployment.id])
        const result = yield* second.actions.awaitById(paused.deployment.id)
        assert.deepStrictEqual(result.output, { n: 2 })
        assert.deepStrictEqual(log.events, ["run b 1"])
        yield* second.shutdown
      }))
  })

  describe("class 4e: a released runtime takes no deployment on", () => {
    it.effect("a start, an operator's take-over, a restart and a recovery pass after the release interrupt their caller and write nothing", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)], { onFailure: "pause" })
        const paused = pausedOnB(deploy)
        const crashed = storedDeployment(deploy, { currentJob: 0 }, [jobRow(0, "a", "running"), jobRow(1, "b", "pending")])
        const finished = storedDeployment(deploy, { status: "succeeded", owner: undefined, leaseExpiresAt: undefined }, [
          { ...jobRow(0, "a", "succeeded", { n: 1 }), input: { n: 0 } },
          jobRow(1, "b", "succeeded", { n: 2 })
        ])
        for (const snapshot of [paused, crashed, finished]) yield* store.create(snapshot, { leaseTtlMillis: 30_000 })
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        yield* process.shutdown
        const before = yield* store.list({ limit: 10 })
        const attempts = {
          start: process.actions.start(deploy, { n: 0 }),
          execute: process.actions.execute(deploy, { n: 0 }),
          "start by key": process.actions.start(deploy, { n: 0 }, { key: "once" }),
          retry: process.actions.retry(paused.deployment.id),
          rollback: process.actions.rollback(paused.deployment.id),
          "stop of a paused deployment": process.actions.stop(paused.deployment.id),
          restart: process.actions.restart(finished.deployment.id),
          resume: process.actions.resume()
        }
        for (const [name, attempt] of Object.entries(attempts)) {
          const exit = yield* Effect.exit(attempt as Effect.Effect<unknown, unknown>)
          assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause), `${name}: interrupted`)
        }
        const after = yield* store.list({ limit: 10 })
        assert.deepStrictEqual(after, before, "no deployment created, none taken over or claimed")
        assert.deepStrictEqual(log.events, [], "no job ran")
      }))
  })

  describe("class 5: parked (corrupt) deployments stay answerable", () => {
    it.effect("await fails with StoredDataCorrupt in the owner and in any other process; stop is refused; no claim", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)])
        const corrupt = storedDeployment(deploy, { currentJob: 1 }, [
          { ...jobRow(0, "a", "succeeded", { n: "one" }), input: { n: 0 } },
          jobRow(1, "b", "running")
        ])
        yield* store.create(corrupt, { leaseTtlMillis: 30_000 })
        const owner = yield* startProcess(store, "owner", leaseTtl)
        const other = yield* startProcess(store, "other", leaseTtl)
        yield* owner.actions.register(deploy)
        yield* other.actions.register(deploy)
        assert.deepStrictEqual((yield* owner.actions.resume()).resumed, [corrupt.deployment.id])
        const id = corrupt.deployment.id
        for (const process of [owner, other]) {
          const error = yield* Effect.flip(process.actions.awaitById(id))
          assert.strictEqual(error._tag, "StoredDataCorrupt")
          if (error._tag === "StoredDataCorrupt") assert.deepStrictEqual([error.job, error.field], ["a", "output"])
          const typed = yield* Effect.flip(process.actions.await(deploy, id))
          assert.strictEqual(typed._tag, "StoredDataCorrupt")
          const refused = yield* Effect.flip(process.actions.stop(id))
          assert.strictEqual(refused._tag, "StoredDataCorrupt")
        }
        const deployment = yield* other.actions.get(id)
        assert.isTrue(Option.isSome(deployment.parked))
        assert.isTrue(Option.isNone(deployment.owner), "a parked deployment holds no lease")
        yield* TestClock.adjust("5 minutes")
        assert.deepStrictEqual((yield* other.actions.resume()).resumed, [], "never claimed again")
        const stored = Option.getOrThrow(yield* store.get(id))
        assert.deepStrictEqual(stored.jobs, corrupt.jobs, "the data is left as it was")
        assert.deepStrictEqual(log.events, [])
        yield* owner.shutdown
        yield* other.shutdown
      }))
  })

  describe("class 5c: a schema that dies on a value refuses it: a stored one parks, a new one fails its job", () => {
    /** A number schema whose decoding throws on 13 (a transformation with a bug), and encodes as numbers do. */
    const Throwing = Schema.Number.pipe(Schema.decodeTo(
      Schema.Number,
      SchemaTransformation.transform({
        decode: (n: number) => {
          if (n === 13) throw new Error("decoder bug")
          return n
        },
        encode: (n: number) => n
      })
    ))
    const Unlucky = State.make("Unlucky", { schema: Throwing, initial: 0 })

    /** Stores `stored`, resumes it in a new process, and returns the process and what its await failed with. */
    const resumeStored = (
      store: DeploymentStore.DeploymentStoreShape,
      deploy: Action.Any,
      stored: DeploymentStore.Snapshot
    ) =>
      Effect.gen(function*() {
        yield* store.create(stored, { leaseTtlMillis: 30_000 })
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const id = stored.deployment.id
        assert.deepStrictEqual((yield* process.actions.resume()).resumed, [id])
        const error = yield* Effect.flip(process.actions.awaitById(id))
        assert.strictEqual(error._tag, "StoredDataCorrupt")
        return { process, id, error }
      })

    it.effect("a state that dies when decoded parks the deployment; await fails with StoredDataCorrupt; no claim", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log), step("b", log)], { state: Unlucky })
        const stored = storedDeployment(deploy, { currentJob: 1, state: 13 }, [
          { ...jobRow(0, "a", "succeeded", { n: 1 }), input: { n: 0 } },
          { ...jobRow(1, "b", "running"), input: { n: 1 } }
        ])
        const { error, id, process } = yield* resumeStored(store, deploy, stored)
        if (error._tag === "StoredDataCorrupt") {
          assert.strictEqual(error.field, "state")
          assert.include(error.issue, "decoder bug")
        }
        assert.isTrue(Option.isSome((yield* process.actions.get(id)).parked))
        yield* TestClock.adjust("5 minutes")
        assert.deepStrictEqual((yield* process.actions.resume()).resumed, [], "never claimed again")
        assert.deepStrictEqual(log.events, [], "no job ran")
        assert.strictEqual(Option.getOrThrow(yield* store.get(id)).deployment.state, 13, "the data is left as it was")
        yield* process.shutdown
      }))

    /** The same number schema, whose encoding throws on 13 instead. */
    const ThrowingOnEncode = Schema.Number.pipe(Schema.decodeTo(
      Schema.Number,
      SchemaTransformation.transform({
        decode: (n: number) => n,
        encode: (n: number) => {
          if (n === 13) throw new Error("encoder bug")
          return n
        }
      })
    ))

    it.effect("a state a job sets that dies when encoded fails that job (StateValidationError) and rolls back, once", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const Fragile = State.make("Fragile", { schema: ThrowingOnEncode, initial: 0 })
        const unlucky = Job.make("unlucky", {
          input: Counter,
          output: Counter,
          execute: ({ n }) => Effect.as(Fragile.set(13), { n: n + 1 })
        })
        const deploy = Action.make("deploy", [step("a", log), unlucky], { state: Fragile })
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error.status, "rolled_back")
        assert.strictEqual(error.reason, "StateValidationError")
        assert.include(error.failureMessage, "encoder bug")
        assert.deepStrictEqual(log.events, ["run a 0", "rollback a in=0 out=1 StateValidationError"])
        yield* process.shutdown
      }))

    it.effect("an output that dies when encoded fails its job (OutputValidationError) and rolls back", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const unlucky = Job.make("unlucky", {
          input: Counter,
          output: Schema.Struct({ n: ThrowingOnEncode }),
          execute: () => Effect.succeed({ n: 13 })
        })
        const deploy = Action.make("deploy", [step("a", log), unlucky])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const error = yield* failedDeployment(process.actions.execute(deploy, { n: 0 }))
        assert.strictEqual(error.reason, "OutputValidationError")
        assert.include(error.failureMessage, "encoder bug")
        assert.deepStrictEqual(log.events, ["run a 0", "rollback a in=0 out=1 OutputValidationError"])
        yield* process.shutdown
      }))

    it.effect("a start whose input dies when encoded fails with InputValidationError, and creates nothing", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const first = Job.make("first", {
          input: Schema.Struct({ n: ThrowingOnEncode }),
          output: Counter,
          execute: ({ n }) => Effect.succeed({ n })
        })
        const deploy = Action.make("deploy", [first])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const error = yield* Effect.flip(process.actions.start(deploy, { n: 13 }))
        assert.strictEqual(error._tag, "InputValidationError")
        if (error._tag === "InputValidationError") assert.include(error.issue, "encoder bug")
        assert.strictEqual((yield* process.actions.list()).items.length, 0)
        yield* process.shutdown
      }))

    it.effect("a completed job's input that dies when decoded, on resume, parks the deployment naming the job", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const fragile = Job.make("fragile", {
          input: Schema.Struct({ n: Throwing }),
          output: Counter,
          execute: ({ n }) => Effect.as(log.add(`run fragile ${n}`), { n: n + 1 })
        })
        const deploy = Action.make("deploy", [fragile, step("b", log)])
        const stored = storedDeployment(deploy, { currentJob: 1 }, [
          { ...jobRow(0, "fragile", "succeeded", { n: 14 }), input: { n: 13 } },
          { ...jobRow(1, "b", "running"), input: { n: 14 } }
        ])
        const { error, process } = yield* resumeStored(store, deploy, stored)
        if (error._tag === "StoredDataCorrupt") assert.deepStrictEqual([error.job, error.field], ["fragile", "input"])
        assert.deepStrictEqual(log.events, [], "no job ran")
        yield* process.shutdown
      }))
  })

  describe("class 5b: job records of another shape park their deployment, never derail its run", () => {
    const deploy = Action.make("deploy", [step("a", makeLog()), step("b", makeLog())])
    // each record as a store might read it back after a hand edit, and what the park reports
    const cases: ReadonlyArray<readonly [string, ReadonlyArray<DeploymentStore.JobRunRow>, string]> = [
      ["a status no job has", [jobRow(0, "a", "succeeded", { n: 1 }), { ...jobRow(1, "b", "running"), status: "bogus" as "running" }], "status \"bogus\""],
      ["a record out of place", [jobRow(0, "a", "succeeded", { n: 1 }), { ...jobRow(1, "b", "running"), index: 2 }], "has index 2"],
      ["a record missing", [jobRow(0, "a", "running")], "1 job records for the 2 jobs"],
      ["a record of another job", [jobRow(0, "a", "succeeded", { n: 1 }), jobRow(1, "c", "running")], "names \"c\""],
      ["an attempt count that is no count", [jobRow(0, "a", "succeeded", { n: 1 }), { ...jobRow(1, "b", "running"), attempts: 1.5 }], "attempt count 1.5"],
      ["a time that is no time", [jobRow(0, "a", "succeeded", { n: 1 }), { ...jobRow(1, "b", "running"), startedAt: Number.NaN }], "startedAt"],
      // what JSON cannot show is shown all the same (the report never throws)
      ["an attempt count that is a bigint", [jobRow(0, "a", "succeeded", { n: 1 }), { ...jobRow(1, "b", "running"), attempts: 1n as unknown as number }], "attempt count 1"]
    ]
    it.effect.each(cases)("%s: parked, reported, left as it is; the next claimed one runs", ([, jobs, issue]) =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const corrupt = storedDeployment(deploy, { currentJob: jobs.length - 1 }, jobs)
        const healthy = storedDeployment(deploy, { currentJob: 1 }, [
          jobRow(0, "a", "succeeded", { n: 1 }),
          { ...jobRow(1, "b", "running"), input: { n: 1 } }
        ])
        yield* store.create(corrupt, { leaseTtlMillis: 30_000 })
        yield* store.create(healthy, { leaseTtlMillis: 30_000 })
        const process = yield* startProcess(store, "successor", leaseTtl)
        yield* process.actions.register(deploy)
        assert.deepStrictEqual(
          [...(yield* process.actions.resume()).resumed].sort(),
          [corrupt.deployment.id, healthy.deployment.id].sort()
        )
        assert.deepStrictEqual((yield* process.actions.awaitById(healthy.deployment.id)).output, { n: 2 })
        const error = yield* Effect.flip(process.actions.awaitById(corrupt.deployment.id))
        assert.strictEqual(error._tag, "StoredDataCorrupt")
        if (error._tag === "StoredDataCorrupt") {
          assert.strictEqual(error.field, "job records")
          assert.include(error.issue, issue)
        }
        const stored = Option.getOrThrow(yield* store.get(corrupt.deployment.id))
        assert.isDefined(stored.deployment.parked)
        assert.strictEqual(stored.deployment.owner, undefined, "a parked deployment holds no lease")
        assert.deepStrictEqual(stored.jobs, corrupt.jobs, "the records are left as they were")
        assert.deepStrictEqual((yield* store.errors(corrupt.deployment.id)).map((entry) => entry.tag), ["StoredDataCorrupt"])
        yield* TestClock.adjust("5 minutes")
        assert.deepStrictEqual((yield* process.actions.resume()).resumed, [], "never claimed again")
        yield* process.shutdown
      }))

    it.effect("an operator's retry or rollback of a paused deployment with records in another shape is refused, writing nothing", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const deploy = Action.make("deploy", [step("a", makeLog()), step("b", makeLog())], { onFailure: "pause" })
        const paused = pausedOnB(deploy, { ...jobRow(1, "b", "failed"), index: 7 })
        yield* store.create(paused, { leaseTtlMillis: 30_000 })
        const process = yield* startProcess(store, "operator", leaseTtl)
        yield* process.actions.register(deploy)
        for (const operation of [process.actions.retry, process.actions.rollback]) {
          const error = yield* Effect.flip(operation(paused.deployment.id))
          assert.strictEqual(error._tag, "StoredDataCorrupt")
          if (error._tag === "StoredDataCorrupt") assert.include(error.issue, "has index 7")
        }
        const stored = Option.getOrThrow(yield* store.get(paused.deployment.id))
        assert.deepStrictEqual([stored.deployment.status, stored.jobs], ["paused", paused.jobs])
        assert.deepStrictEqual(stored.deployment.leaseEpoch, paused.deployment.leaseEpoch)
        yield* process.shutdown
      }))
  })

  describe("class 8: one bad row never hides the others", () => {
    it.effect("list reports a row it cannot decode, with its id, and returns the rest of the page", () =>
      Effect.gen(function*() {
        const store = yield* Store.makeMemory
        const log = makeLog()
        const deploy = Action.make("deploy", [step("a", log)])
        const process = yield* startProcess(store, "p", leaseTtl)
        yield* process.actions.register(deploy)
        const good = yield* process.actions.execute(deploy, { n: 0 })
        const bad = storedDeployment(deploy, { status: "rolled_back", owner: undefined, failure: { nonsense: true } as never }, [
          jobRow(0, "a", "failed")
        ])
        yield* store.create(bad, { leaseTtlMillis: 30_000 })
        const page = yield* process.actions.list()
        assert.deepStrictEqual(page.items.map((item) => item.id), [good.deploymentId])
        assert.deepStrictEqual(page.unreadable.map((error) => error.deploymentId), [bad.deployment.id])
        yield* process.shutdown
      }))
  })

  describe("class 10: a remote await reads the status, not the snapshot", () => {
    it.effect("waits on status reads and reads the deployment once, when it is terminal", () =>
      Effect.gen(function*() {
        const inner = yield* Store.makeMemory
        let gets = 0
        let statuses = 0
        const counting = {
          ...inner,
          get: (id: string) => Effect.andThen(Effect.sync(() => gets++), inner.get(id)),
          status: (id: string) => Effect.andThen(Effect.sync(() => statuses++), inner.status(id))
        }
        const gate = yield* Deferred.make<void>()
        const waits = Job.make("waits", { input: Counter, output: Counter, execute: (value) => Effect.as(Deferred.await(gate), value) })
        const deploy = Action.make("deploy", [waits])
        const runner = yield* startProcess(inner, "runner", leaseTtl)
        const waiter = yield* startProcess(counting, "waiter", leaseTtl)
        yield* runner.actions.register(deploy)
        const id = yield* runner.actions.start(deploy, { n: 7 })
        const awaited = yield* Effect.forkChild(waiter.actions.awaitById(id))
        for (let second = 0; second < 5; second++) yield* TestClock.adjust("1 second")
        assert.strictEqual(gets, 0)
        assert.isAtLeast(statuses, 5)
        yield* Deferred.succeed(gate, undefined)
        yield* runner.actions.awaitById(id)
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual((yield* Fiber.join(awaited)).output, { n: 7 })
        assert.strictEqual(gets, 1)
        yield* runner.shutdown
        yield* waiter.shutdown
      }))
  })
})
