import { assert, describe, it } from "@effect/vitest"
import { DateTime, Deferred, Effect, Exit, Fiber, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Action, ActionError, Actions, DeploymentStore, Job, JobContext } from "effect-actions"
import { Boom, Counter, type Log, makeLog, quota, step, type Switch } from "./support/jobs.ts"
import { restartIdOf } from "../src/internal/operationRestart.ts"
import { startProcess } from "./support/processes.ts"
import { settled } from "./support/settled.ts"

/** A job whose rollback fails while the switch is on. */
const fragileRollback = (log: Log, switched: Switch) =>
  Job.make("release", {
    input: Counter,
    output: Counter,
    execute: ({ n }) => Effect.as(log.add(`run release ${n}`), { n: n + 1 }),
    rollback: () =>
      Effect.andThen(
        log.add("rollback release"),
        switched.failing ? Effect.fail(new Boom({ job: "release" })) : Effect.void
      )
  })

/**
 * A store where another process's stop lands just before a pause is written (the deployment still running then),
 * and the pause is written once `before` is done.
 */
const stopAsPauseIsWritten = (
  inner: DeploymentStore.DeploymentStoreShape,
  before: Effect.Effect<void> = Effect.void
): DeploymentStore.DeploymentStoreShape => ({
  ...inner,
  checkpoint: (checkpoint) =>
    checkpoint.deployment.status === "paused"
      ? Effect.andThen(
        Effect.andThen(inner.requestStop(checkpoint.fence.deploymentId, checkpoint.at), before),
        inner.checkpoint(checkpoint)
      )
      : inner.checkpoint(checkpoint)
})

const pausing = (log: Log, switched: Switch, atLeast = 0) =>
  Action.make("provision", [step("a", log), quota(log, switched, atLeast), step("c", log)], { onFailure: "pause" })

const memory = <A, E>(effect: Effect.Effect<A, E, Actions.Actions>) =>
  effect.pipe(Effect.provide(Actions.layerMemory({ recovery: { enabled: false } })))

/** Registers `action`, starts a deployment of it and waits until it rests; returns the deployment's id. */
const startedAndSettled = (actions: Actions.ActionsShape, action: ReturnType<typeof pausing>) =>
  Effect.gen(function*() {
    yield* actions.register(action)
    const id = yield* actions.start(action, { n: 0 })
    yield* settled(actions, id)
    return id
  })

/** A process "worker" on `store`, with a deployment of `pausing` started whose second job fails. */
const startFailing = (store: DeploymentStore.DeploymentStoreShape) =>
  Effect.gen(function*() {
    const log = makeLog()
    const action = pausing(log, { failing: true })
    const worker = yield* startProcess(store, "worker")
    yield* worker.actions.register(action)
    const id = yield* worker.actions.start(action, { n: 0 })
    return { action, id, log, worker }
  })

/** Two processes on one store, "first" and "second", each with `action` registered. */
const twoProcesses = (store: DeploymentStore.DeploymentStoreShape, action: Action.Any) => {
  const registered = (owner: string) =>
    Effect.tap(startProcess(store, owner), (process) => process.actions.register(action))
  return Effect.all([registered("first"), registered("second")])
}

const refusal = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.flip(effect).pipe(Effect.map((error) => error as E))

describe("Actions operations", () => {
  describe("the pause policy", () => {
    it.effect("pauses a deployment whose job fails: failure recorded, lease released, nothing rolled back", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = pausing(log, { failing: true })
        const id = yield* startedAndSettled(actions, action)
        const deployment = yield* actions.get(id)

        assert.strictEqual(deployment.status, "paused")
        assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["succeeded", "failed", "pending"])
        assert.isTrue(Option.isNone(deployment.owner), "the lease is released")
        assert.strictEqual(Option.getOrThrow(deployment.failure).tag, "Boom")
        assert.deepStrictEqual(log.events, ["run a 0", "run quota 1"], "no rollback ran")
        assert.deepStrictEqual((yield* actions.errors(id)).map((entry) => entry.tag), ["Boom"])
        assert.deepStrictEqual((yield* actions.list({ statuses: ["paused"] })).items.map((item) => item.id), [id])
        assert.strictEqual(yield* actions.prune({ olderThan: "0 millis" }), 0, "a paused deployment is never pruned")
      })))

    it.effect("follows a job's own policy over its action's", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const switched = { failing: true }
        const pausesHere = Action.make("pauses-here", [step("a", log), quota(log, switched).pipe(Job.onFailure("pause"))])
        const rollsBackHere = Action.make(
          "rolls-back-here",
          [step("a", log), Job.onFailure(quota(log, switched), "rollback")],
          { onFailure: "pause" }
        )
        yield* actions.register(pausesHere)
        yield* actions.register(rollsBackHere)
        const paused = yield* actions.start(pausesHere, { n: 0 })
        const rolledBack = yield* actions.start(rollsBackHere, { n: 0 })

        assert.strictEqual((yield* settled(actions, paused)).status, "paused")
        assert.strictEqual((yield* settled(actions, rolledBack)).status, "rolled_back")
      })))

    it.effect("a stop rolls back whatever the policy", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const blocked = Job.make("blocked", { input: Counter, output: Counter, execute: () => Effect.never })
        const action = Action.make("blocks", [step("a", log), blocked], { onFailure: "pause" })
        yield* actions.register(action)
        const id = yield* actions.start(action, { n: 0 })
        yield* TestClock.adjust("10 millis")
        const receipt = yield* actions.stop(id, { reason: "wrong region" })

        assert.strictEqual(receipt.outcome, "done")
        const deployment = yield* settled(actions, id)
        assert.strictEqual(deployment.status, "rolled_back")
        assert.strictEqual(Option.getOrThrow(deployment.failure).tag, "ExecutionStopped")
        assert.deepStrictEqual(
          deployment.history.map((entry) => [entry.operation, entry.outcome, Option.getOrUndefined(entry.reason)]),
          [["stop", "done", "wrong region"]]
        )
      })))

    it.effect("a stop asked while the failure was pausing the deployment rolls it back once the pause is written", () =>
      Effect.gen(function*() {
        const inner = yield* DeploymentStore.makeMemory
        // Another process's stop lands just before the pause is written: the deployment is still running then.
        const store = stopAsPauseIsWritten(inner)
        const { id, log, worker } = yield* startFailing(store)
        yield* TestClock.adjust("10 millis")
        const deployment = yield* settled(worker.actions, id)

        assert.strictEqual(deployment.status, "rolled_back")
        assert.strictEqual(Option.getOrThrow(deployment.failure).tag, "ExecutionStopped")
        assert.deepStrictEqual(log.events.slice(2), ["rollback quota in=1 out=none", "rollback a in=0 out=1 ExecutionStopped"])
        yield* worker.shutdown
      }))

    it.effect.each([
      // The stop's notification interrupts the run first: the runtime is still open when the run ends.
      ["as the process begins to shut down", Effect.yieldNow, "carried out"],
      // The release waits for the run, and the runtime is released when it ends.
      ["once the runtime is released", TestClock.adjust("1 second"), "requested"]
    ] as const)("such a stop is not lost when the pause is written %s: another process rolls the deployment back", ([, until, expected]) =>
      Effect.gen(function*() {
        const inner = yield* DeploymentStore.makeMemory
        const entered = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        // The stop lands just before the pause is written, and the pause is written only once the release began.
        const store = stopAsPauseIsWritten(inner, Effect.andThen(Deferred.succeed(entered, undefined), Deferred.await(gate)))
        const { action, id, log, worker } = yield* startFailing(store)
        yield* TestClock.adjust("10 millis")
        yield* Deferred.await(entered)
        const shutdown = yield* Effect.forkChild(worker.shutdown)
        yield* until
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(shutdown)

        // The stop was carried out (its rollback left for another process, the lease given up), or, once the runtime
        // was released, it waits as a request: never a paused deployment whose stop nobody carries out.
        const left = Option.getOrThrow(yield* inner.get(id)).deployment
        const carriedOut = left.status === "rolling_back" && left.owner === undefined
        const requested = left.status === "paused" && left.request?.operation === "stop"
        assert.strictEqual(carriedOut ? "carried out" : requested ? "requested" : "lost", expected)
        const other = yield* startProcess(inner, "other")
        yield* other.actions.register(action)
        yield* other.actions.resume()
        const deployment = yield* settled(other.actions, id)
        assert.strictEqual(deployment.status, "rolled_back")
        assert.deepStrictEqual(deployment.history.map((entry) => [entry.operation, entry.outcome]), [["stop", "done"]])
        assert.deepStrictEqual(log.events.slice(2), ["rollback quota in=1 out=none", "rollback a in=0 out=1 ExecutionStopped"])
        yield* other.shutdown
      }))

    it.effect("such a stop is not lost when the process that paused dies before it carries it out: another one does", () =>
      Effect.gen(function*() {
        const inner = yield* DeploymentStore.makeMemory
        const dead = { yes: false }
        // The stop lands as the pause is written; then the pausing process can reach the store no more.
        const paused = stopAsPauseIsWritten(inner, Effect.sync(() => (dead.yes = true)))
        const store: DeploymentStore.DeploymentStoreShape = {
          ...paused,
          get: (id) =>
            dead.yes
              ? Effect.fail(new ActionError.PersistenceError({ reason: "connection", operation: "get", detail: "dead" }))
              : inner.get(id)
        }
        const { action, id, log, worker } = yield* startFailing(store)
        yield* TestClock.adjust("1 second")
        yield* worker.crash

        const left = Option.getOrThrow(yield* inner.get(id)).deployment
        assert.deepStrictEqual([left.status, left.request?.operation], ["paused", "stop"], "the stop waits as a request")
        const other = yield* startProcess(inner, "other")
        yield* other.actions.register(action)
        yield* other.actions.resume()
        const deployment = yield* settled(other.actions, id)
        assert.strictEqual(deployment.status, "rolled_back")
        assert.strictEqual(Option.getOrThrow(deployment.failure).tag, "ExecutionStopped")
        assert.deepStrictEqual(log.events.slice(2), ["rollback quota in=1 out=none", "rollback a in=0 out=1 ExecutionStopped"])
        yield* other.shutdown
      }))

    it.effect("execute waits through a pause, and returns once an operator's retry finishes the deployment", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const switched = { failing: true }
        const action = pausing(log, switched)
        yield* actions.register(action)
        const waiting = yield* Effect.forkChild(actions.execute(action, { n: 0 }, { key: "web-1" }))
        yield* TestClock.adjust("10 millis")
        const [paused] = (yield* actions.list({ statuses: ["paused"] })).items
        switched.failing = false
        yield* actions.retry(paused!.id)
        yield* TestClock.adjust("2 seconds")

        const result = yield* Fiber.join(waiting)
        assert.deepStrictEqual(result.output, { n: 3 })
      })))
  })

  describe("retry", () => {
    it.effect("runs the failed job again with a replacement input, records it, and goes on forward", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = pausing(log, { failing: false }, 10)
        const id = yield* startedAndSettled(actions, action)

        const receipt = yield* actions.retry(id, { input: { n: 10 }, reason: "quota raised" })
        assert.deepStrictEqual(receipt, { deploymentId: id, operation: "retry", outcome: "done", restartedAs: Option.none() })
        const deployment = yield* settled(actions, id)

        assert.strictEqual(deployment.status, "succeeded")
        assert.deepStrictEqual(deployment.jobs.map((job) => job.attempts), [1, 2, 1])
        const [first] = deployment.jobs[1]!.earlierAttempts
        assert.strictEqual(deployment.jobs[1]!.earlierAttempts.length, 1, "the failed attempt is kept")
        assert.strictEqual(first!.attempt, 1)
        assert.isTrue(Option.isSome(first!.finishedAt), "it ended: it failed")
        assert.deepStrictEqual(Option.getOrThrow(deployment.jobs[1]!.input), { n: 10 })
        assert.deepStrictEqual(Option.getOrThrow(deployment.output), { n: 12 })
        assert.isTrue(Option.isNone(deployment.failure), "the failure is cleared once the job runs again")
        assert.deepStrictEqual(log.events, ["run a 0", "run quota 1", "run quota 10", "run c 11"])
        const [entry] = deployment.history
        assert.strictEqual(entry!.operation, "retry")
        assert.strictEqual(entry!.outcome, "done")
        assert.strictEqual(entry!.by, actions.owner)
        assert.deepStrictEqual(Option.getOrUndefined(entry!.reason), "quota raised")
        assert.deepStrictEqual(Option.getOrUndefined(entry!.job), "quota")
        assert.deepStrictEqual(Option.getOrUndefined(entry!.detail), { replacedInput: { n: 1 } })
      })))

    it.effect("without an input, runs the job with its own; failing again pauses again", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = pausing(log, { failing: true })
        const id = yield* startedAndSettled(actions, action)
        yield* actions.retry(id)
        const deployment = yield* settled(actions, id)

        assert.strictEqual(deployment.status, "paused")
        assert.strictEqual(deployment.jobs[1]!.attempts, 2)
        assert.deepStrictEqual(log.events, ["run a 0", "run quota 1", "run quota 1"])
        assert.deepStrictEqual((yield* actions.errors(id)).map((entry) => entry.tag), ["Boom", "Boom"])
      })))

    it.effect("refuses a replacement input that does not fit the job's schema, and changes nothing", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = pausing(log, { failing: true })
        const id = yield* startedAndSettled(actions, action)
        const before = yield* actions.get(id)
        const error = yield* refusal(actions.retry(id, { input: { n: "ten" } }))

        assert.instanceOf(error, ActionError.InputValidationError)
        assert.strictEqual(error.job, "quota")
        const after = yield* actions.get(id)
        assert.deepStrictEqual(after, before)
        assert.strictEqual(log.events.length, 2)
      })))

    it.effect("makes the failed job's input again from the previous output when the job failed before getting one", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const Small = Schema.Struct({ n: Schema.Number.check(Schema.isLessThan(2)) })
        const strict = (fitting: Switch) =>
          Job.make("strict", {
            input: fitting.failing ? Small : Counter,
            output: Counter,
            execute: ({ n }) => Effect.as(log.add(`run strict ${n}`), { n })
          })
        const action = Action.make("strict-input", [step("a", log), step("b", log), strict({ failing: true })], {
          onFailure: "pause"
        })
        const id = yield* startedAndSettled(actions, action)
        const paused = yield* actions.get(id)

        assert.strictEqual(paused.status, "paused")
        assert.strictEqual(Option.getOrThrow(paused.failure).phase, "input")
        assert.isTrue(Option.isNone(paused.jobs[2]!.input))
        // Without a fitting input the retry is refused before anything changes.
        assert.instanceOf(yield* refusal(actions.retry(id)), ActionError.InputValidationError)
        yield* actions.retry(id, { input: { n: 1 } })
        assert.strictEqual((yield* settled(actions, id)).status, "succeeded")
        assert.deepStrictEqual(log.events, ["run a 0", "run b 1", "run strict 1"])
      })))
  })

  describe("a take-over whose reply was lost", () => {
    it.effect("is recognised by the history entry it wrote, and the deployment runs here", () =>
      Effect.gen(function*() {
        const inner = yield* DeploymentStore.makeMemory
        let lose = false
        // The take-over commits, and its reply is lost once: the repeat finds the deployment changed (one epoch on).
        const store: DeploymentStore.DeploymentStoreShape = {
          ...inner,
          takeOver: (request) =>
            Effect.flatMap(inner.takeOver(request), (result) =>
              lose
                ? Effect.andThen(
                  Effect.sync(() => (lose = false)),
                  Effect.fail(new ActionError.PersistenceError({ reason: "connection", operation: "takeOver", detail: "reply lost" }))
                )
                : Effect.succeed(result))
        }
        const log = makeLog()
        const switched = { failing: true }
        const worker = yield* startProcess(store, "worker")
        const id = yield* startedAndSettled(worker.actions, pausing(log, switched))
        switched.failing = false
        lose = true
        const retrying = yield* Effect.forkChild(worker.actions.retry(id))
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(retrying)).outcome, "done")
        const deployment = yield* settled(worker.actions, id)
        assert.strictEqual(deployment.status, "succeeded")
        assert.deepStrictEqual(deployment.history.map((entry) => [entry.operation, entry.outcome]), [["retry", "done"]])
        yield* worker.shutdown
      }))

    it.effect("is not mistaken for another operation's take-over by the same process in between", () =>
      Effect.gen(function*() {
        const inner = yield* DeploymentStore.makeMemory
        const readDone = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const armed = { get: false, checkpointsDown: false }
        const store: DeploymentStore.DeploymentStoreShape = {
          ...inner,
          // the rollback's read returns, then it waits for `gate`
          get: (id) =>
            armed.get
              ? Effect.andThen(
                Effect.sync(() => (armed.get = false)),
                Effect.tap(inner.get(id), () => Effect.andThen(Deferred.succeed(readDone, undefined), Deferred.await(gate)))
              )
              : inner.get(id),
          // the retried run's checkpoints fail: it stops here, its lease kept
          checkpoint: (checkpoint) =>
            armed.checkpointsDown
              ? Effect.fail(new ActionError.PersistenceError({ reason: "connection", operation: "checkpoint", detail: "down" }))
              : inner.checkpoint(checkpoint)
        }
        const log = makeLog()
        const switched = { failing: true }
        const worker = yield* startProcess(store, "worker")
        const id = yield* startedAndSettled(worker.actions, pausing(log, switched))
        switched.failing = false
        armed.get = true
        const rollingBack = yield* Effect.forkChild(Effect.exit(worker.actions.rollback(id)))
        yield* Deferred.await(readDone)
        armed.checkpointsDown = true
        assert.strictEqual((yield* worker.actions.retry(id)).outcome, "done")
        yield* TestClock.adjust("2 seconds")
        armed.checkpointsDown = false
        yield* Deferred.succeed(gate, undefined)
        const exit = yield* Fiber.join(rollingBack)
        const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
        assert.instanceOf(error, ActionError.OperationRefused, "the rollback did not happen, and is not reported done")
        if (error instanceof ActionError.OperationRefused) assert.strictEqual(error.reason, "changed")
        const history = (yield* worker.actions.get(id)).history.map((entry) => [entry.operation, entry.outcome])
        assert.deepStrictEqual(history, [["retry", "done"]])
        yield* worker.shutdown
      }))
  })

  describe("rollback and stop of a paused deployment", () => {
    it.effect("rollback runs the failed job's rollback with None, then the completed jobs', in reverse order", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = pausing(log, { failing: true })
        const id = yield* startedAndSettled(actions, action)
        yield* actions.rollback(id, { reason: "give up" })
        const deployment = yield* settled(actions, id)

        assert.strictEqual(deployment.status, "rolled_back")
        assert.deepStrictEqual(log.events.slice(2), ["rollback quota in=1 out=none", "rollback a in=0 out=1 Boom"])
        assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rolled_back", "pending"])
        assert.deepStrictEqual(deployment.history.map((entry) => entry.operation), ["rollback"])
      })))

    it.effect("stop rolls a paused deployment back with ExecutionStopped", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = pausing(log, { failing: true })
        const id = yield* startedAndSettled(actions, action)
        yield* actions.stop(id)
        const deployment = yield* settled(actions, id)

        assert.strictEqual(deployment.status, "rolled_back")
        assert.strictEqual(Option.getOrThrow(deployment.failure).tag, "ExecutionStopped")
        assert.deepStrictEqual(log.events.slice(2), ["rollback quota in=1 out=none", "rollback a in=0 out=1 ExecutionStopped"])
        assert.deepStrictEqual((yield* actions.errors(id)).map((entry) => entry.tag), ["Boom", "ExecutionStopped"])
      })))
  })

  describe("retryRollback", () => {
    it.effect("runs only the failed rollbacks again, in reverse order, and ends rolled_back", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const broken = { failing: true }
        const action = Action.make("teardown", [step("a", log), fragileRollback(log, broken), step("c", log, { fails: true })])
        const id = yield* startedAndSettled(actions, action)
        const failed = yield* actions.get(id)
        assert.strictEqual(failed.status, "rollback_failed")
        assert.deepStrictEqual(failed.jobs.map((job) => job.status), ["rolled_back", "rollback_failed", "rolled_back"])

        broken.failing = false
        yield* actions.retryRollback(id, { reason: "permissions fixed" })
        const deployment = yield* settled(actions, id)

        assert.strictEqual(deployment.status, "rolled_back")
        assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rolled_back", "rolled_back"])
        assert.deepStrictEqual(
          log.events.filter((event) => event.startsWith("rollback")),
          ["rollback c in=2 out=none Boom", "rollback release", "rollback a in=0 out=1 Boom", "rollback release"],
          "a rollback recorded as done never runs again"
        )
        const awaited = yield* refusal(actions.await(action, id))
        assert.strictEqual(awaited._tag, "DeploymentFailed")
        if (awaited._tag === "DeploymentFailed") assert.deepStrictEqual(awaited.rollbackFailures, [])
      })))

    it.effect("ends rollback_failed again when a rollback fails again", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = Action.make("teardown", [fragileRollback(log, { failing: true }), step("c", log, { fails: true })])
        const id = yield* startedAndSettled(actions, action)
        yield* actions.retryRollback(id)
        const deployment = yield* settled(actions, id)

        assert.strictEqual(deployment.status, "rollback_failed")
        assert.strictEqual(log.events.filter((event) => event === "rollback release").length, 2)
        assert.deepStrictEqual(deployment.history.map((entry) => entry.operation), ["retry_rollback"])
      })))
  })

  describe("restart", () => {
    it.effect("starts a new deployment with the same first input, linked to the original", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = Action.make("once", [step("a", log), step("b", log, { fails: true })])
        yield* actions.register(action)
        const id = yield* actions.start(action, { n: 5 }, { key: "first" })
        yield* settled(actions, id)
        const receipt = yield* actions.restart(id, { key: "second" })
        const restartedAs = Option.getOrThrow(receipt.restartedAs)
        const restarted = yield* settled(actions, restartedAs)

        assert.notStrictEqual(restartedAs, id)
        assert.deepStrictEqual(Option.getOrUndefined(restarted.restartOf), id)
        assert.deepStrictEqual(Option.getOrUndefined(restarted.key), "second")
        assert.deepStrictEqual(Option.getOrThrow(restarted.jobs[0]!.input), { n: 5 })
        const original = yield* actions.get(id)
        assert.deepStrictEqual(original.history.map((entry) => Option.getOrUndefined(entry.detail)), [{ restartedAs }])
      })))

    it.effect("names the n-th restart of a deployment by one UUID in every process, whatever the id's letter case", () =>
      Effect.gen(function*() {
        const id = "0b7f3c1e-9a4d-4e2b-8c6f-1d2e3f4a5b6c"
        const first = yield* restartIdOf(id, 0)
        assert.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        assert.strictEqual(yield* restartIdOf(id.toUpperCase(), 0), first)
        assert.notStrictEqual(yield* restartIdOf(id, 1), first)
        assert.notStrictEqual(yield* restartIdOf("0b7f3c1e-9a4d-4e2b-8c6f-1d2e3f4a5b6d", 0), first)
      }))

    it.effect("asked twice at once in one process, creates and runs one deployment; the other call is refused", () =>
      Effect.gen(function*() {
        const inner = yield* DeploymentStore.makeMemory
        const entered = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const holding = { on: false }
        // While holding, the first restart's create waits, not yet launched, as the second one is asked.
        const store: DeploymentStore.DeploymentStoreShape = {
          ...inner,
          create: (snapshot, options) =>
            holding.on
              ? Effect.andThen(Deferred.succeed(entered, undefined), Effect.andThen(Deferred.await(gate), inner.create(snapshot, options)))
              : inner.create(snapshot, options)
        }
        const log = makeLog()
        const action = Action.make("once", [step("a", log)])
        const worker = yield* startProcess(store, "worker")
        yield* worker.actions.register(action)
        const id = yield* worker.actions.start(action, { n: 5 })
        yield* settled(worker.actions, id)
        holding.on = true
        const first = yield* Effect.forkChild(worker.actions.restart(id))
        yield* Deferred.await(entered)
        holding.on = false
        const second = yield* Effect.flip(worker.actions.restart(id))
        assert.instanceOf(second, ActionError.OperationRefused)
        if (second instanceof ActionError.OperationRefused) assert.strictEqual(second.reason, "changed")
        yield* Deferred.succeed(gate, undefined)
        const restartedAs = Option.getOrThrow((yield* Fiber.join(first)).restartedAs)
        yield* settled(worker.actions, restartedAs)
        assert.deepStrictEqual(log.events, ["run a 5", "run a 5"], "the restart ran once")
        yield* worker.shutdown
      }))

    it.effect("asked of two processes at once, creates one deployment; asked again later, another", () =>
      Effect.gen(function*() {
        const inner = yield* DeploymentStore.makeMemory
        const bothRead = yield* Deferred.make<void>()
        const gate = { on: false, reads: 0 }
        // While the gate is on, both restarts read the history before either records its restart.
        const store: DeploymentStore.DeploymentStoreShape = {
          ...inner,
          history: (id) =>
            !gate.on ? inner.history(id) : Effect.andThen(
              Effect.suspend(() => ++gate.reads === 2 ? Deferred.succeed(bothRead, undefined) : Effect.void),
              Effect.andThen(Deferred.await(bothRead), inner.history(id))
            )
        }
        const log = makeLog()
        const action = Action.make("once", [step("a", log)])
        const [first, second] = yield* twoProcesses(store, action)
        const id = yield* first.actions.start(action, { n: 5 })
        yield* settled(first.actions, id)
        gate.on = true
        const receipts = yield* Effect.all([first.actions.restart(id), second.actions.restart(id)], { concurrency: 2 })
        gate.on = false
        const [a, b] = receipts.map((receipt) => Option.getOrThrow(receipt.restartedAs))
        assert.strictEqual(a, b, "one restart")
        yield* settled(first.actions, a!)
        assert.strictEqual((yield* inner.list({ limit: 10 })).items.length, 2, "the original and one restart")
        assert.deepStrictEqual(log.events, ["run a 5", "run a 5"], "its job ran once more, not twice")

        const later = Option.getOrThrow((yield* second.actions.restart(id)).restartedAs)
        assert.notStrictEqual(later, a, "a restart asked after the first one is another deployment")
        yield* settled(second.actions, later)
        yield* first.shutdown
        yield* second.shutdown
      }))
  })

  describe("refusals", () => {
    it.effect("refuses an operation that does not apply to the deployment's status, and changes nothing", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = Action.make("plain", [step("a", log)])
        const id = yield* startedAndSettled(actions, action)
        for (const operation of [actions.retry(id), actions.rollback(id), actions.retryRollback(id)]) {
          const error = yield* refusal(operation)
          assert.instanceOf(error, ActionError.OperationRefused)
          if (error instanceof ActionError.OperationRefused) {
            assert.strictEqual(error.reason, "status")
            assert.strictEqual(error.status, "succeeded")
          }
        }
        assert.instanceOf(yield* refusal(actions.stop(id)), ActionError.DeploymentNotRunning)
        assert.instanceOf(yield* refusal(actions.retry("no-such-id")), ActionError.DeploymentNotFound)
        assert.deepStrictEqual((yield* actions.get(id)).history, [])
      })))

    it.effect("checks its arguments: a reason no store can hold, an input that is not JSON, a bad bulk filter", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const invalid = [
          actions.retry("x", { reason: "a\u0000b" }),
          actions.retry("x", { reason: "\ud800" }),
          actions.retry("x", { reason: "r".repeat(4097) }),
          actions.retry("x", { input: { n: Number.NaN } }),
          actions.retry("x", { input: () => 1 }),
          actions.restart("x", { key: 7 as unknown as string }),
          actions.bulk({ operation: "restart" as "retry" }),
          actions.bulk({ operation: "retry", filter: { createdBefore: new Date(0) as unknown as DateTime.Utc } }),
          actions.bulk({ operation: "retry", filter: { statuses: ["lost" as "paused"] } }),
          actions.bulk({ operation: "retry", dryRun: "yes" as unknown as boolean })
        ]
        for (const operation of invalid) {
          assert.instanceOf(yield* refusal(operation as Effect.Effect<unknown, unknown>), ActionError.InvalidArgument)
        }
      })))
  })

  describe("requests from a process without the action", () => {
    it.effect("records the operation as a request, which a process that has the action carries out", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore.makeMemory
        const log = makeLog()
        const switched = { failing: true }
        const action = pausing(log, switched, 10)
        const worker = yield* startProcess(store, "worker", { recovery: { enabled: false } })
        const cli = yield* startProcess(store, "cli", { recovery: { enabled: false } })
        yield* worker.actions.register(action)
        const id = yield* worker.actions.start(action, { n: 0 })
        yield* settled(worker.actions, id)
        switched.failing = false

        const receipt = yield* cli.actions.retry(id, { input: { n: 10 }, reason: "quota raised" })
        assert.strictEqual(receipt.outcome, "requested")
        const requested = yield* cli.actions.get(id)
        assert.strictEqual(requested.status, "paused")
        assert.strictEqual(Option.getOrThrow(requested.request).operation, "retry")
        const other = yield* refusal(cli.actions.rollback(id))
        assert.instanceOf(other, ActionError.OperationRefused)
        if (other instanceof ActionError.OperationRefused) assert.strictEqual(other.reason, "request_pending")

        assert.deepStrictEqual((yield* worker.actions.resume()).carried, [id])
        const deployment = yield* settled(cli.actions, id)
        assert.strictEqual(deployment.status, "succeeded")
        assert.isTrue(Option.isNone(deployment.request))
        assert.deepStrictEqual(
          deployment.history.map((entry) => [entry.operation, entry.outcome, entry.by]),
          [["retry", "requested", "cli"], ["retry", "done", "cli"]]
        )
        assert.match(Option.getOrThrow(deployment.history[1]!.message), /carried out by worker/)
        yield* worker.shutdown
        yield* cli.shutdown
      }))

    it.effect("a request that no longer applies is refused where it is carried out, and the refusal recorded", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore.makeMemory
        const log = makeLog()
        const action = pausing(log, { failing: true })
        const worker = yield* startProcess(store, "worker", { recovery: { enabled: false } })
        const cli = yield* startProcess(store, "cli", { recovery: { enabled: false } })
        yield* worker.actions.register(action)
        const id = yield* worker.actions.start(action, { n: 0 })
        yield* settled(worker.actions, id)

        assert.strictEqual((yield* cli.actions.retry(id, { input: { n: "ten" } })).outcome, "requested")
        assert.deepStrictEqual((yield* worker.actions.resume()).carried, [])
        const deployment = yield* worker.actions.get(id)

        assert.strictEqual(deployment.status, "paused")
        assert.isTrue(Option.isNone(deployment.request), "the refused request is cleared")
        assert.deepStrictEqual(deployment.history.map((entry) => entry.outcome), ["requested", "refused"])
        assert.match(Option.getOrThrow(deployment.history[1]!.message), /InputValidationError|quota/)
        yield* worker.shutdown
        yield* cli.shutdown
      }))

    it.effect("a restart requested elsewhere gets its id at once, and the new deployment that id", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore.makeMemory
        const log = makeLog()
        const action = Action.make("once", [step("a", log)])
        const worker = yield* startProcess(store, "worker", { recovery: { enabled: false } })
        const cli = yield* startProcess(store, "cli", { recovery: { enabled: false } })
        yield* worker.actions.register(action)
        const id = yield* worker.actions.start(action, { n: 1 })
        yield* settled(worker.actions, id)

        const receipt = yield* cli.actions.restart(id)
        assert.strictEqual(receipt.outcome, "requested")
        const restartedAs = Option.getOrThrow(receipt.restartedAs)
        yield* worker.actions.resume()
        const restarted = yield* settled(cli.actions, restartedAs)

        assert.strictEqual(restarted.status, "succeeded")
        assert.deepStrictEqual(Option.getOrUndefined(restarted.restartOf), id)
        yield* worker.shutdown
        yield* cli.shutdown
      }))
    it.effect("a restart requested elsewhere is carried out by a process that has a later version of the action", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore.makeMemory
        const log = makeLog()
        const old = yield* startProcess(store, "old", { recovery: { enabled: false } })
        const first = Action.make("evolving", [step("a", log)])
        yield* old.actions.register(first)
        const id = yield* old.actions.start(first, { n: 1 })
        yield* settled(old.actions, id)
        yield* old.shutdown

        // the workers now run a version of the action with one more job; the CLI has no action at all
        const later = Action.make("evolving", [step("a", log), step("b", log)])
        const worker = yield* startProcess(store, "worker", { recovery: { enabled: false } })
        const cli = yield* startProcess(store, "cli", { recovery: { enabled: false } })
        yield* worker.actions.register(later)
        const receipt = yield* cli.actions.restart(id)
        assert.strictEqual(receipt.outcome, "requested")
        assert.deepStrictEqual((yield* worker.actions.resume()).carried, [id])
        const restarted = yield* settled(cli.actions, Option.getOrThrow(receipt.restartedAs))

        assert.strictEqual(restarted.status, "succeeded")
        assert.deepStrictEqual(restarted.jobs.map((job) => job.name), ["a", "b"])
        assert.isTrue(Option.isNone((yield* cli.actions.get(id)).request), "the request is carried out, not left pending")
        yield* worker.shutdown
        yield* cli.shutdown
      }))
  })

  describe("many processes", () => {
    it.effect("two processes retrying one paused deployment at once: exactly one carries it out", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore.makeMemory
        const log = makeLog()
        const switched = { failing: true }
        const action = pausing(log, switched)
        const [first, second] = yield* twoProcesses(store, action)
        const id = yield* first.actions.start(action, { n: 0 })
        yield* settled(first.actions, id)
        switched.failing = false

        const [a, b] = yield* Effect.all(
          [Effect.result(first.actions.retry(id)), Effect.result(second.actions.retry(id))],
          { concurrency: 2 }
        )
        const outcomes = [a, b].map((result) => result._tag)
        assert.deepStrictEqual([...outcomes].sort(), ["Failure", "Success"])
        const failed = [a, b].find((result) => result._tag === "Failure")
        if (failed?._tag === "Failure") {
          assert.instanceOf(failed.failure, ActionError.OperationRefused)
        }
        const deployment = yield* settled(first.actions, id)
        assert.strictEqual(deployment.status, "succeeded")
        assert.deepStrictEqual(log.events.filter((event) => event.startsWith("run quota")), ["run quota 1", "run quota 1"])
        assert.strictEqual(deployment.history.length, 1)
        yield* first.shutdown
        yield* second.shutdown
      }))

    it.effect("a paused deployment survives its process: no other process claims it, and it is retried later", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore.makeMemory
        const log = makeLog()
        const switched = { failing: true }
        const action = pausing(log, switched)
        const first = yield* startProcess(store, "first", { recovery: { leaseTtl: "30 seconds" } })
        yield* first.actions.register(action)
        const id = yield* first.actions.start(action, { n: 0 })
        yield* settled(first.actions, id)
        yield* first.crash

        const second = yield* startProcess(store, "second", { recovery: { leaseTtl: "30 seconds" } })
        yield* second.actions.register(action)
        yield* TestClock.adjust("1 hour")
        assert.deepStrictEqual((yield* second.actions.resume()).resumed, [], "a paused deployment is never claimed")
        switched.failing = false
        yield* second.actions.retry(id)
        assert.strictEqual((yield* settled(second.actions, id)).status, "succeeded")
        yield* second.shutdown
      }))

    it.effect("a retried deployment whose process dies is resumed by another after its lease expires", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore.makeMemory
        const log = makeLog()
        const gate = { failing: true }
        const hanging = Job.make("quota", {
          input: Counter,
          output: Counter,
          execute: ({ n }) =>
            Effect.andThen(log.add(`run quota ${n}`), gate.failing ? Effect.fail(new Boom({ job: "quota" })) : Effect.never)
        })
        const action = Action.make("provision", [step("a", log), hanging, step("c", log)], { onFailure: "pause" })
        const first = yield* startProcess(store, "first", { recovery: { leaseTtl: "30 seconds" } })
        yield* first.actions.register(action)
        const id = yield* first.actions.start(action, { n: 0 })
        yield* settled(first.actions, id)
        gate.failing = false
        yield* first.actions.retry(id)
        yield* TestClock.adjust("10 millis")
        yield* first.crash

        const succeeding = Action.make("provision", [step("a", log), step("quota", log), step("c", log)], { onFailure: "pause" })
        const second = yield* startProcess(store, "second", { recovery: { leaseTtl: "30 seconds" } })
        yield* second.actions.register(succeeding)
        yield* TestClock.adjust("31 seconds")
        assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
        const deployment = yield* settled(second.actions, id)
        assert.strictEqual(deployment.status, "succeeded")
        assert.deepStrictEqual(deployment.jobs.map((job) => job.attempts), [1, 3, 1])
        assert.deepStrictEqual(
          deployment.jobs[1]!.earlierAttempts.map((attempt) => [attempt.attempt, Option.isSome(attempt.finishedAt)]),
          [[1, true], [2, false]],
          "attempt 1 failed (it ended), attempt 2 was cut short by the crash (no end)"
        )
        yield* second.shutdown
      }))
  })

  describe("what operators' views read", () => {
    it.effect("counts per status, job data, a key search, and when each rollback ran", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const withData = Job.make("noted", {
          input: Counter,
          output: Counter,
          execute: ({ n }) =>
            Effect.gen(function*() {
              const context = yield* JobContext.JobContext
              yield* context.setData("vm", Schema.String, `vm-${n}`)
              return { n: n + 1 }
            }),
          rollback: () => log.add("rollback noted")
        })
        const action = Action.make("noted", [withData, step("b", log, { fails: true })])
        const paused = pausing(log, { failing: true })
        yield* actions.register(action)
        yield* actions.register(paused)
        const rolledBack = yield* actions.start(action, { n: 4 }, { key: "web-1" })
        yield* actions.start(paused, { n: 0 }, { key: "web-2" })
        yield* TestClock.adjust("10 millis")
        const deployment = yield* settled(actions, rolledBack)

        const { atMost, counts } = yield* actions.counts()
        assert.strictEqual(atMost, 10_000)
        assert.deepStrictEqual(counts, {
          running: 0,
          paused: 1,
          rolling_back: 0,
          rollback_failed: 0,
          rolled_back: 1,
          succeeded: 0
        })
        assert.strictEqual((yield* actions.counts({ action: "noted" })).counts.paused, 0)
        assert.deepStrictEqual(yield* actions.jobData(rolledBack), [{ job: "noted", key: "vm", value: "vm-4" }])
        assert.instanceOf(yield* refusal(actions.jobData("no-such-id")), ActionError.DeploymentNotFound)
        assert.deepStrictEqual((yield* actions.list({ key: "web-1" })).items.map((item) => item.id), [rolledBack])
        assert.instanceOf(yield* refusal(actions.counts({ application: "" })), ActionError.InvalidArgument)

        const [noted, failed] = deployment.jobs
        assert.isTrue(Option.isSome(noted!.rollbackStartedAt) && Option.isSome(noted!.rollbackFinishedAt))
        assert.isTrue(Option.isSome(noted!.finishedAt), "the end of its attempt is kept")
        assert.isTrue(Option.isSome(failed!.rollbackFinishedAt), "the failed job's rollback ran too")
      })))
  })

  describe("bulk", () => {
    it.effect("a dry run counts and lists the matching deployments; the real run acts on each and reports it", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = pausing(log, { failing: true })
        const other = Action.make("other", [step("a", log)])
        yield* actions.register(action)
        yield* actions.register(other)
        const ids: Array<string> = []
        for (let n = 0; n < 3; n++) ids.push(yield* actions.start(action, { n }))
        const done = yield* actions.start(other, { n: 0 })
        for (const id of [...ids, done]) yield* settled(actions, id)

        const dry = yield* actions.bulk({ operation: "rollback", filter: { action: "provision" }, dryRun: true })
        assert.strictEqual(dry.matched, 3)
        assert.deepStrictEqual([...dry.ids].sort(), [...ids].sort())
        assert.deepStrictEqual(dry.items, [])
        for (const id of ids) assert.strictEqual((yield* actions.get(id)).status, "paused", "a dry run changes nothing")

        const real = yield* actions.bulk({ operation: "rollback", reason: "incident 42" })
        assert.strictEqual(real.matched, 3)
        assert.deepStrictEqual(real.items.map((item) => item.outcome), ["done", "done", "done"])
        for (const id of ids) {
          const deployment = yield* settled(actions, id)
          assert.strictEqual(deployment.status, "rolled_back")
          assert.deepStrictEqual(Option.getOrUndefined(deployment.history[0]!.reason), "incident 42")
        }
        assert.strictEqual((yield* actions.get(done)).status, "succeeded")
      })))

    it.effect("works through more deployments than one batch, and stops at a store failure; run again, it does the rest", () =>
      Effect.gen(function*() {
        const inner = yield* DeploymentStore.makeMemory
        let lists = 0
        let takeOvers = 0
        let failFrom = Infinity
        const store: DeploymentStore.DeploymentStoreShape = {
          ...inner,
          list: (query) => Effect.suspend(() => (lists++, inner.list(query))),
          takeOver: (request) =>
            Effect.suspend(() =>
              ++takeOvers >= failFrom
                ? Effect.fail(new ActionError.PersistenceError({ reason: "connection", operation: "takeOver", detail: "down" }))
                : inner.takeOver(request)
            )
        }
        const operator = yield* startProcess(store, "operator")
        const { actions } = operator
        const action = pausing(makeLog(), { failing: true })
        yield* actions.register(action)
        const ids: Array<string> = []
        for (let n = 0; n < 250; n++) ids.push(yield* actions.start(action, { n }))
        for (const id of ids) yield* settled(actions, id)

        lists = 0
        const dry = yield* actions.bulk({ operation: "rollback", dryRun: true })
        assert.strictEqual(dry.matched, 250)
        assert.deepStrictEqual([...dry.ids].sort(), [...ids].sort())
        assert.strictEqual(lists, 3, "read in pages of 100")

        failFrom = 120
        // the store's transient failures are retried a few times first, on the test clock
        const failing = yield* Effect.forkChild(Effect.flip(actions.bulk({ operation: "rollback" })))
        yield* TestClock.adjust("10 seconds")
        const failed = yield* Fiber.join(failing)
        assert.strictEqual(failed._tag, "PersistenceError", "a store failure is not reported as a refusal")
        yield* Effect.forEach(ids, (id) => settled(actions, id), { discard: true })
        const rolledBack = (yield* actions.list({ statuses: ["rolled_back"], limit: 1000 })).items.length
        assert.isAtLeast(rolledBack, 100, "the first batch was done before the failure")
        assert.isBelow(rolledBack, 250)

        failFrom = Infinity
        const rest = yield* actions.bulk({ operation: "rollback" })
        assert.strictEqual(rest.matched, 250 - rolledBack, "what was done no longer matches")
        assert.isTrue(rest.items.every((item) => item.outcome === "done"))
        assert.deepStrictEqual(rest.items.map((item) => item.deploymentId), rest.ids)
        for (const id of ids) assert.strictEqual((yield* settled(actions, id)).status, "rolled_back")
        yield* operator.shutdown
      }))

    it.effect("filters by creation time, and reports a deployment the operation does not apply to as refused", () =>
      memory(Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const log = makeLog()
        const action = pausing(log, { failing: true })
        yield* actions.register(action)
        const early = yield* actions.start(action, { n: 0 })
        yield* settled(actions, early)
        yield* TestClock.adjust("1 hour")
        const cutoff = DateTime.makeUnsafe(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
        const late = yield* actions.start(action, { n: 0 })
        yield* settled(actions, late)

        const before = yield* actions.bulk({ operation: "retry", filter: { createdBefore: cutoff }, dryRun: true })
        const after = yield* actions.bulk({ operation: "retry", filter: { createdAfter: cutoff }, dryRun: true })
        assert.deepStrictEqual(before.ids, [early])
        assert.deepStrictEqual(after.ids, [late])
        assert.deepStrictEqual((yield* actions.list({ createdBefore: cutoff })).items.map((item) => item.id), [early])
        assert.deepStrictEqual((yield* actions.list({ createdAfter: cutoff })).items.map((item) => item.id), [late])
        assert.instanceOf(
          yield* refusal(actions.list({ createdAfter: "yesterday" as unknown as DateTime.Utc })),
          ActionError.InvalidArgument
        )

        const plain = Action.make("plain", [step("a", log)])
        yield* actions.register(plain)
        yield* TestClock.adjust("1 millis") // created after `late`, not in the same millisecond
        const succeeded = yield* actions.start(plain, { n: 0 })
        yield* settled(actions, succeeded)
        const mixed = yield* actions.bulk({ operation: "retry", filter: { statuses: ["succeeded", "paused"] } })
        assert.strictEqual(mixed.matched, 3)
        assert.deepStrictEqual(
          mixed.items.map((item) => [item.deploymentId, item.outcome]),
          [[succeeded, "refused"], [late, "done"], [early, "done"]]
        )
        assert.match(Option.getOrThrow(mixed.items[0]!.message), /retry applies to a paused deployment/)
      })))
  })
})
