import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Action, DeploymentStore, Job, JobContext } from "effect-actions"
import { blockingOnFirstAttempt, Counter, makeLog, step } from "./support/jobs.ts"
import { startProcess } from "./support/processes.ts"
import { jobRow, storedDeployment } from "./support/snapshots.ts"

const leaseTtl = { recovery: { leaseTtl: "30 seconds" } } as const

/** How many of the deployments have been claimed exactly once since their process crashed (lease epoch 2). */
const claimedOnce = (store: DeploymentStore.DeploymentStoreShape, ids: ReadonlyArray<string>) =>
  Effect.map(
    Effect.forEach(ids, (id) => Effect.map(store.get(id), (found) => Option.getOrThrow(found).deployment.leaseEpoch)),
    (all) => all.filter((epoch) => epoch === 2).length
  )

/** A first process starts a deployment of `action` and crashes once `started` completes; returns its id. */
const crashWhileRunning = <A extends Action.Any>(
  store: DeploymentStore.DeploymentStoreShape,
  action: A,
  started: Deferred.Deferred<void>
) =>
  Effect.gen(function*() {
    const first = yield* startProcess(store, "process-1", leaseTtl)
    yield* first.actions.register(action)
    const id = yield* first.actions.start(action, { n: 0 } as Action.Input<A>)
    yield* Deferred.await(started)
    yield* first.crash
    return id
  })

/** A second process with `action` registered, started once the crashed process's lease expired. */
const successor = <A extends Action.Any>(store: DeploymentStore.DeploymentStoreShape, action: A) =>
  Effect.gen(function*() {
    const second = yield* startProcess(store, "process-2", leaseTtl)
    yield* second.actions.register(action)
    yield* TestClock.adjust("31 seconds")
    return second
  })

describe("Actions resume", () => {
  it.effect("resumes a crashed deployment at the job that was running, in another process, after the lease expires", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const deploy = Action.make("deploy", [step("a", log), blockingOnFirstAttempt("b", log, started, gate), step("c", log)])

      const id = yield* crashWhileRunning(store, deploy, started)

      const second = yield* startProcess(store, "process-2", leaseTtl)
      yield* second.actions.register(deploy)
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [], "the crashed process's lease still holds")
      yield* TestClock.adjust("31 seconds")
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
      const result = yield* second.actions.await(deploy, id)

      assert.deepStrictEqual(result.output, { n: 3 })
      assert.deepStrictEqual(log.events, ["run a 0", "run b attempt 1 key true", "run b attempt 2 key true", "run c 2"])
      const deployment = yield* second.actions.get(id)
      assert.strictEqual(deployment.status, "succeeded")
      assert.deepStrictEqual(deployment.jobs.map((job) => job.attempts), [1, 2, 1])
      assert.strictEqual(deployment.leaseEpoch, 2)
      yield* second.shutdown
    }))

  it.effect("re-arms the rollbacks of the jobs completed before the crash, so a later failure still undoes them", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const deploy = Action.make("deploy", [
        step("a", log),
        blockingOnFirstAttempt("b", log, started, gate),
        step("c", log, { fails: true })
      ])
      const id = yield* crashWhileRunning(store, deploy, started)
      const second = yield* successor(store, deploy)
      yield* second.actions.resume()
      const error = yield* Effect.flip(second.actions.awaitById(id))
      assert.strictEqual(error._tag, "DeploymentFailed")
      assert.deepStrictEqual(log.events.filter((event) => event.startsWith("rollback")), [
        "rollback c in=2 out=none Boom",
        "rollback b",
        "rollback a in=0 out=1 Boom"
      ])
      yield* second.shutdown
    }))

  it.effect("continues an interrupted rollback where it stopped, never re-running a rollback recorded as done", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const rollingBackA = yield* Deferred.make<void>()
      let firstProcess: { readonly cut: () => void } | undefined
      const a = Job.make("a", {
        input: Counter,
        output: Counter,
        execute: ({ n }) => Effect.succeed({ n: n + 1 }),
        rollback: () =>
          Effect.gen(function*() {
            const context = yield* JobContext.JobContext
            yield* log.add(`rollback a by ${context.attempt}`)
            // The first process loses its database right after undoing a, before it can record it.
            firstProcess?.cut()
            yield* Deferred.succeed(rollingBackA, undefined)
          })
      })
      const deploy = Action.make("deploy", [a, step("b", log), step("c", log, { fails: true })])

      const first = yield* startProcess(store, "process-1", leaseTtl)
      firstProcess = first.connection
      yield* first.actions.register(deploy)
      const id = yield* first.actions.start(deploy, { n: 0 })
      yield* Deferred.await(rollingBackA)
      yield* TestClock.adjust("1 second") // the failed write's retries give up
      firstProcess = undefined
      yield* first.crash
      const midway = Option.getOrThrow(yield* store.get(id))
      assert.strictEqual(midway.deployment.status, "rolling_back")
      assert.deepStrictEqual(midway.jobs.map((job) => job.status), ["succeeded", "rolled_back", "rolled_back"])

      const second = yield* successor(store, deploy)
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
      const error = yield* Effect.flip(second.actions.awaitById(id))
      assert.strictEqual(error._tag, "DeploymentFailed")
      assert.deepStrictEqual(log.events.filter((event) => event.startsWith("rollback")), [
        "rollback c in=2 out=none Boom",
        "rollback b in=1 out=2 Boom",
        "rollback a by 1",
        "rollback a by 1"
      ])
      const deployment = yield* second.actions.get(id)
      assert.strictEqual(deployment.status, "rolled_back")
      assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rolled_back", "rolled_back"])
      yield* second.shutdown
    }))

  it.effect("fences a process that lost its lease: its writes are refused and it runs no further job", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const deploy = Action.make("deploy", [step("a", log), blockingOnFirstAttempt("b", log, started, gate), step("c", log)])

      const first = yield* startProcess(store, "process-1", leaseTtl)
      yield* first.actions.register(deploy)
      const id = yield* first.actions.start(deploy, { n: 0 })
      yield* Deferred.await(started)
      // The first process is partitioned from the database long enough for its lease to expire.
      first.connection.cut()
      yield* TestClock.adjust("31 seconds")
      const second = yield* startProcess(store, "process-2", leaseTtl)
      yield* second.actions.register(deploy)
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
      const result = yield* second.actions.awaitById(id)
      assert.deepStrictEqual(result.output, { n: 3 })

      // The partition heals and the first process's job finishes: it must not write nor run c again.
      first.connection.restore()
      yield* Deferred.succeed(gate, undefined)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(log.events, ["run a 0", "run b attempt 1 key true", "run b attempt 2 key true", "run c 2"])
      const deployment = yield* second.actions.get(id)
      assert.strictEqual(deployment.status, "succeeded")
      assert.strictEqual(deployment.leaseEpoch, 2)
      assert.deepStrictEqual(deployment.jobs.map((job) => job.attempts), [1, 2, 1])
      yield* first.shutdown
      yield* second.shutdown
    }))

  const stopFromAnotherProcess = (notifications: boolean) =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const never = yield* Deferred.make<void>()
      const deploy = Action.make("deploy", [step("a", log), blockingOnFirstAttempt("b", log, started, never)])
      const options = { ...leaseTtl, withoutStopNotifications: !notifications }
      const owner = yield* startProcess(store, "owner", options)
      const other = yield* startProcess(store, "other", options)
      yield* owner.actions.register(deploy)
      yield* other.actions.register(deploy)
      const id = yield* owner.actions.start(deploy, { n: 0 })
      yield* Deferred.await(started)
      yield* other.actions.stop(id)
      if (!notifications) {
        yield* Effect.yieldNow
        assert.strictEqual((yield* owner.actions.get(id)).status, "running", "without notifications, no stop before the heartbeat")
        yield* TestClock.adjust("11 seconds")
      }
      const error = yield* Effect.flip(owner.actions.awaitById(id))
      assert.strictEqual(error._tag, "DeploymentFailed")
      if (error._tag === "DeploymentFailed") assert.strictEqual(error.reason, "ExecutionStopped")
      assert.deepStrictEqual(log.events.filter((event) => event.startsWith("rollback")), [
        "rollback b",
        "rollback a in=0 out=1 ExecutionStopped"
      ])
      yield* owner.shutdown
      yield* other.shutdown
    })

  it.effect("stops a deployment from another process at once through the store's stop notifications", () =>
    stopFromAnotherProcess(true))

  it.effect("stops a deployment from another process at the owner's next heartbeat when the store has no notifications", () =>
    stopFromAnotherProcess(false))

  it.effect("reports a deployment of another definition of its action once, in the log and its error log", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const v1 = Action.make("deploy", [step("a", log), blockingOnFirstAttempt("b", log, started, gate)])
      const v2 = Action.make("deploy", [step("a", log), step("b2", log)])
      const id = yield* crashWhileRunning(store, v1, started)
      const second = yield* startProcess(store, "process-2", leaseTtl)
      const third = yield* startProcess(store, "process-3", leaseTtl)
      yield* second.actions.register(v2)
      yield* third.actions.register(v2)
      yield* TestClock.adjust("31 seconds")
      yield* second.actions.resume()
      yield* second.actions.resume()
      yield* third.actions.resume()
      const entries = yield* second.actions.errors(id)
      assert.deepStrictEqual(entries.map((entry) => [entry.tag, entry.phase]), [["ActionVersionMismatch", "resume"]])
      assert.include(entries[0]!.message, "[\"a\",\"b\"]")
      assert.include(entries[0]!.message, "[\"a\",\"b2\"]")
      assert.strictEqual((yield* second.actions.get(id)).status, "running")
      yield* second.shutdown
      yield* third.shutdown
    }))

  it.effect("after a database outage stops its run, the process resumes the deployment once the lease lapses", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const deploy = Action.make("deploy", [step("a", log), blockingOnFirstAttempt("b", log, started, gate), step("c", log)])
      // Another deployment keeps running in the same process, so its heartbeats go on.
      const busy = Action.make("busy", [Job.make("wait", { input: Counter, output: Counter, execute: () => Effect.never })])
      const process = yield* startProcess(store, "process-1", leaseTtl)
      yield* process.actions.register(deploy)
      yield* process.actions.register(busy)
      yield* process.actions.start(busy, { n: 0 })
      const id = yield* process.actions.start(deploy, { n: 0 })
      yield* Deferred.await(started)
      process.connection.cut()
      yield* Deferred.succeed(gate, undefined)
      yield* TestClock.adjust("1 second") // the checkpoint's retries give up: the local run stops
      process.connection.restore()
      assert.strictEqual(Option.getOrThrow(yield* store.get(id)).deployment.currentJob, 1, "b's checkpoint never committed")
      assert.deepStrictEqual((yield* process.actions.resume()).resumed, [], "the lease still holds")
      yield* TestClock.adjust("31 seconds") // heartbeats no longer renew a deployment this process does not run
      assert.deepStrictEqual((yield* process.actions.resume()).resumed, [id])
      assert.deepStrictEqual((yield* process.actions.awaitById(id)).output, { n: 3 })
      assert.deepStrictEqual(log.events, ["run a 0", "run b attempt 1 key true", "run b attempt 2 key true", "run c 2"])
      yield* process.shutdown
    }))

  it.effect("a deployment started while a heartbeat is in flight keeps running: the answer does not judge it", () =>
    Effect.gen(function*() {
      const memory = yield* DeploymentStore.makeMemory
      const answer = yield* Deferred.make<void>()
      const asked = yield* Deferred.make<void>()
      const slowHeartbeat: DeploymentStore.DeploymentStoreShape = {
        ...memory,
        heartbeat: (request) =>
          Effect.andThen(
            Effect.andThen(Deferred.succeed(asked, undefined), Deferred.await(answer)),
            memory.heartbeat(request)
          )
      }
      const log = makeLog()
      const startedA = yield* Deferred.make<void>()
      const startedB = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const first = Action.make("first", [blockingOnFirstAttempt("a", log, startedA, gate)])
      const second = Action.make("second", [blockingOnFirstAttempt("b", log, startedB, gate)])
      const process = yield* startProcess(slowHeartbeat, "process-1", leaseTtl)
      yield* process.actions.register(first)
      yield* process.actions.register(second)
      yield* process.actions.start(first, { n: 0 })
      yield* Deferred.await(startedA)
      yield* TestClock.adjust("10 seconds") // the heartbeat asks, and waits for its answer
      yield* Deferred.await(asked)
      const id = yield* process.actions.start(second, { n: 0 })
      yield* Deferred.await(startedB)
      yield* Deferred.succeed(answer, undefined)
      yield* Effect.yieldNow
      yield* Deferred.succeed(gate, undefined)
      assert.deepStrictEqual((yield* process.actions.awaitById(id)).output, { n: 1 })
      assert.deepStrictEqual((yield* process.actions.get(id)).jobs.map((job) => job.attempts), [1])
      yield* process.shutdown
    }))

  it.effect("a stale local run does not resume a deployment that another process advanced meanwhile", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const gateA = yield* Deferred.make<void>()
      const startedA = yield* Deferred.make<void>()
      const startedB = yield* Deferred.make<void>()
      const never = yield* Deferred.make<void>()
      // Job c blocks while the second process (epoch 2) runs it, so that process can crash in the middle.
      const c = Job.make("c", {
        input: Counter,
        output: Counter,
        execute: ({ n }) =>
          Effect.gen(function*() {
            const context = yield* JobContext.JobContext
            yield* log.add(`run c epoch ${context.fencingToken}`)
            if (context.fencingToken === 2) {
              yield* Deferred.succeed(startedB, undefined)
              yield* Deferred.await(never)
            }
            return { n: n + 1 }
          })
      })
      const deploy = Action.make("deploy", [blockingOnFirstAttempt("a", log, startedA, gateA), step("b", log), c, step("d", log)])
      const first = yield* startProcess(store, "process-1", leaseTtl)
      yield* first.actions.register(deploy)
      const id = yield* first.actions.start(deploy, { n: 0 })
      yield* Deferred.await(startedA)
      first.connection.cut() // paused: its lease lapses while its job a still runs

      const second = yield* successor(store, deploy)
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
      yield* Deferred.await(startedB)
      yield* second.crash // after a and b, in the middle of c
      yield* TestClock.adjust("31 seconds") // the second process's lease lapses too

      // The first process is back, and claims the deployment before its own heartbeat tells it anything.
      first.connection.restore()
      assert.deepStrictEqual((yield* first.actions.resume()).resumed, [], "the stale run is stopped, not resumed")
      yield* Deferred.succeed(gateA, undefined) // the stale job a finishes: it must not be checkpointed
      yield* Effect.yieldNow
      assert.deepStrictEqual((yield* first.actions.resume()).resumed, [id], "resumed from what is stored")
      assert.deepStrictEqual((yield* first.actions.awaitById(id)).output, { n: 4 })
      assert.deepStrictEqual(log.events, [
        "run a attempt 1 key true",
        "run a attempt 2 key true",
        "run b 1",
        "run c epoch 2",
        "run c epoch 4",
        "run d 3"
      ])
      yield* first.shutdown
    }))

  it.effect("recovery drains a backlog pass after pass, up to the process's limit of deployments in flight", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const gate = yield* Deferred.make<void>()
      // Every attempt blocks until the gate opens, so that claimed deployments stay in flight.
      const hold = Job.make("hold", {
        input: Counter,
        output: Counter,
        execute: (value) => Effect.as(Deferred.await(gate), value)
      })
      const deploy = Action.make("deploy", [hold])
      const first = yield* startProcess(store, "process-1", leaseTtl)
      yield* first.actions.register(deploy)
      const ids = yield* Effect.forEach([1, 2, 3, 4, 5], (n) => first.actions.start(deploy, { n }))
      yield* first.crash

      const options = { recovery: { enabled: true, leaseTtl: "30 seconds", pollInterval: "5 seconds", batch: 2, maxInFlight: 4 } } as const
      const second = yield* startProcess(store, "process-2", options)
      yield* second.actions.register(deploy)
      const epochs = claimedOnce(store, ids)
      yield* TestClock.adjust("31 seconds") // one poll after the leases lapsed: full passes follow at once
      assert.strictEqual(yield* epochs, 4, "two full passes of 2, then the limit of 4 in flight")
      yield* Deferred.succeed(gate, undefined)
      yield* Effect.forEach(ids.slice(0, 4), (id) => Effect.ignore(second.actions.awaitById(id)))
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* epochs, 5)
      yield* second.actions.awaitById(ids[4]!)
      assert.deepStrictEqual(log.events, [])
      yield* second.shutdown
    }))

  it.effect("recovery near its limit in flight claims what fits at once, and waits for room, not a poll interval", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const gates = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
      // Deployments 1 to 4 hold until the first gate opens, the others until the second.
      const hold = Job.make("hold", {
        input: Counter,
        output: Counter,
        execute: (value) => Effect.as(Deferred.await(gates[value.n <= 4 ? 0 : 1]!), value)
      })
      const deploy = Action.make("deploy", [hold])
      const first = yield* startProcess(store, "process-1", leaseTtl)
      yield* first.actions.register(deploy)
      const ids = yield* Effect.forEach([1, 2, 3, 4, 5, 6, 7, 8], (n) => first.actions.start(deploy, { n }))
      yield* first.crash

      const options = { recovery: { enabled: true, leaseTtl: "30 seconds", pollInterval: "5 seconds", batch: 3, maxInFlight: 4 } } as const
      const second = yield* startProcess(store, "process-2", options)
      yield* second.actions.register(deploy)
      const claimed = claimedOnce(store, ids)
      yield* TestClock.adjust("31 seconds") // the first poll after the leases lapsed
      // a pass of 3, then one of 1 (all the room left): both at once, though the second asked for less than a batch
      assert.strictEqual(yield* claimed, 4)
      yield* Deferred.succeed(gates[0]!, undefined)
      yield* Effect.forEach(ids.slice(0, 4), (id) => Effect.ignore(second.actions.awaitById(id)))
      assert.strictEqual(yield* claimed, 4, "no room yet: the pass in wait has not run")
      yield* TestClock.adjust("50 millis")
      // room is looked for again after 50 ms, not after the 5 s poll interval: a pass of 3, then one of 1
      assert.strictEqual(yield* claimed, 8)
      yield* Deferred.succeed(gates[1]!, undefined)
      yield* Effect.forEach(ids.slice(4), (id) => Effect.ignore(second.actions.awaitById(id)))
      yield* second.shutdown
    }))

  it.effect("a graceful shutdown releases the lease, so another process resumes at once", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const deploy = Action.make("deploy", [blockingOnFirstAttempt("a", log, started, gate)])
      const first = yield* startProcess(store, "process-1", leaseTtl)
      yield* first.actions.register(deploy)
      const id = yield* first.actions.start(deploy, { n: 0 })
      yield* Deferred.await(started)
      yield* first.shutdown
      const second = yield* startProcess(store, "process-2", leaseTtl)
      yield* second.actions.register(deploy)
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [id])
      assert.deepStrictEqual((yield* second.actions.awaitById(id)).output, { n: 1 })
      yield* second.shutdown
    }))

  it.effect("does not resume a deployment under another definition of its action, and leaves it untouched", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const v1 = Action.make("deploy", [step("a", log), blockingOnFirstAttempt("b", log, started, gate)])
      const v2 = Action.make("deploy", [step("a", log), step("b2", log)])
      const id = yield* crashWhileRunning(store, v1, started)
      const before = Option.getOrThrow(yield* store.get(id))

      const second = yield* successor(store, v2)
      assert.deepStrictEqual((yield* second.actions.resume()).resumed, [])
      assert.deepStrictEqual(Option.getOrThrow(yield* store.get(id)), before)
      yield* second.shutdown
    }))

  it.effect("reports a stored input that no longer decodes as StoredDataCorrupt, keeping the stored data", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const deploy = Action.make("deploy", [step("a", log), step("b", log)])
      // A deployment whose job b has an input that its schema cannot read.
      const snapshot = storedDeployment(deploy, { id: "00000000-0000-4000-8000-000000000001", currentJob: 1 }, [
        { ...jobRow(0, "a", "succeeded", { n: 1 }), input: { n: 0 }, finishedAt: 0 },
        { ...jobRow(1, "b", "running"), input: { n: "one" } }
      ])
      yield* store.create(snapshot, { leaseTtlMillis: 30_000 })
      const process = yield* startProcess(store, "process-1", leaseTtl)
      yield* process.actions.register(deploy)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual((yield* process.actions.resume()).resumed, [snapshot.deployment.id])
      const error = yield* Effect.flip(process.actions.awaitById(snapshot.deployment.id))
      assert.strictEqual(error._tag, "StoredDataCorrupt")
      if (error._tag === "StoredDataCorrupt") {
        assert.strictEqual(error.deploymentId, snapshot.deployment.id)
        assert.strictEqual(error.job, "b")
        assert.strictEqual(error.field, "input")
      }
      const after = Option.getOrThrow(yield* store.get(snapshot.deployment.id))
      assert.deepStrictEqual(after.jobs, snapshot.jobs)
      assert.strictEqual(after.deployment.status, "running")
      const errors = yield* store.errors(snapshot.deployment.id)
      assert.deepStrictEqual(errors.map((e) => e.tag), ["StoredDataCorrupt"])
      assert.deepStrictEqual(log.events, [])
      yield* TestClock.adjust("2 minutes")
      assert.deepStrictEqual((yield* process.actions.resume()).resumed, [], "a corrupt deployment is not claimed again and again")
      yield* process.shutdown
    }))

  it.effect("persists the state at every checkpoint, so a resumed deployment sees it", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore.makeMemory
      const log = makeLog()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const { State } = yield* Effect.promise(() => import("effect-actions"))
      const Seen = State.make("Seen", { schema: Schema.Array(Schema.String), initial: [] })
      const note = (name: string) =>
        Job.make(name, {
          input: Counter,
          output: Counter,
          execute: (value) => Effect.as(Seen.update((seen) => [...seen, name]), value)
        })
      const report = Job.make("report", {
        input: Counter,
        output: Schema.Array(Schema.String),
        execute: () => Seen.get
      })
      const deploy = Action.make("deploy", [note("a"), blockingOnFirstAttempt("b", log, started, gate), report], { state: Seen })
      const id = yield* crashWhileRunning(store, deploy, started)
      const second = yield* successor(store, deploy)
      yield* second.actions.resume()
      assert.deepStrictEqual((yield* second.actions.await(deploy, id)).output, ["a"])
      yield* second.shutdown
    }))
})
