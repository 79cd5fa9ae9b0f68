import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, References, Schema } from "effect"
import { Action, DeploymentStore, Job, JobContext } from "effect-actions"
import { checkInvariants, seededRandom, type SideEffect } from "./support/invariants.ts"
import { type Process, startProcess } from "./support/processes.ts"

/**
 * Processes crash at random moments (their fibers interrupted wherever they are, their store connection cut so
 * they write nothing more), other processes take their deployments over, and once everything settled the
 * invariants of test/support/invariants.ts must hold. The seed makes the choices replayable
 * (`CRASH_SEED=<n> npm test`); timing still varies from run to run.
 */
const seed = Number(process.env.CRASH_SEED ?? 20261127)
const JOBS = 5
const DEPLOYMENTS = 40
const ROUNDS = 14

const Work = Schema.Struct({ seq: Schema.Int, failAt: Schema.Int })

describe("Actions under crashes (memory store)", () => {
  it.live(`every deployment settles correctly when processes crash at random (seed ${seed})`, () =>
    Effect.gen(function*() {
      const random = seededRandom(seed)
      const pause = (max: number) => Effect.sleep(`${1 + Math.floor(random() * max)} millis`)
      const effects: Array<SideEffect> = []
      const record = (kind: SideEffect["kind"], job: number) =>
        Effect.flatMap(JobContext.JobContext, (context) =>
          Effect.sync(() => void effects.push({ deploymentId: context.deploymentId, job, kind, epoch: context.fencingToken })))

      const jobs = Array.from({ length: JOBS }, (_, job) =>
        Job.make(`job-${job}`, {
          input: Work,
          output: Work,
          execute: (work) =>
            Effect.gen(function*() {
              yield* record("start", job)
              yield* pause(6)
              if (work.failAt === job) return yield* Effect.fail(`job ${job} fails by design`)
              yield* record("do", job)
              return work
            }).pipe(Effect.ensuring(record("end", job))),
          rollback: () => Effect.andThen(pause(3), record("undo", job))
        }))
      const action = Action.make("crashy", jobs as unknown as [typeof jobs[0]])

      const store = yield* DeploymentStore.makeMemory
      const options = {
        recovery: { enabled: true, leaseTtl: "120 millis", heartbeat: "30 millis", pollInterval: "15 millis", batch: 50 }
      } as const
      const launch = (name: string) =>
        Effect.tap(startProcess(store, name, options), (process) => process.actions.register(action))

      const ids: Array<string> = []
      let crashes = 0
      for (let round = 0; round < ROUNDS; round++) {
        const running: Array<Process> = [yield* launch(`process-${round}`)]
        if (random() < 0.4) running.push(yield* launch(`process-${round}-twin`))
        if (round === 0) {
          for (let seq = 0; seq < DEPLOYMENTS; seq++) {
            const failAt = random() < 0.35 ? Math.floor(random() * JOBS) : -1
            ids.push(yield* running[0]!.actions.start(action, { seq, failAt }))
          }
        }
        yield* pause(70)
        // Crash one of the running processes, or both; a survivor shuts down gracefully.
        for (const process of running) {
          if (process === running[0] || random() < 0.5) {
            yield* process.crash
            crashes++
          } else {
            yield* process.shutdown
          }
        }
      }

      const final = yield* launch("final")
      const settled = yield* Effect.gen(function*() {
        while (true) {
          const active = yield* store.list({ statuses: ["running", "rolling_back"], limit: 1 })
          if (active.items.length === 0) return true
          yield* Effect.sleep("20 millis")
        }
      }).pipe(Effect.timeoutOrElse({ duration: "30 seconds", orElse: () => Effect.succeed(false) }))
      yield* final.shutdown
      assert.isTrue(settled, "every deployment settles")

      const records = yield* Effect.forEach(ids, (id) => Effect.map(store.get(id), Option.getOrThrow))
      const violations = checkInvariants(
        records.map((snapshot) => ({ id: snapshot.deployment.id, status: snapshot.deployment.status, jobs: JOBS })),
        effects
      )
      const resumed = records.filter((snapshot) => snapshot.deployment.leaseEpoch > 1).length
      const outcomes = records.map((snapshot) => snapshot.deployment.status)
      console.log(
        `crash test (memory, seed ${seed}): ${crashes} crashes, ${resumed} of ${DEPLOYMENTS} deployments taken over, ` +
          `${outcomes.filter((s) => s === "succeeded").length} succeeded, ${outcomes.filter((s) => s === "rolled_back").length} rolled back`
      )
      assert.deepStrictEqual(violations, [])
      assert.isAtLeast(crashes, ROUNDS)
      assert.isAbove(resumed, 0, "some deployments were taken over by another process")
      assert.isTrue(outcomes.includes("succeeded") && outcomes.includes("rolled_back"))
    }).pipe(Effect.provideService(References.MinimumLogLevel, "Error")), { timeout: 60_000 })
})
