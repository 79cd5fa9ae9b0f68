/**
 * Recovery benchmark: how long processes take to resume the deployments of a process that crashed, how fast they
 * claim them, and what holding many deployments in flight costs (the lease heartbeat, the heap).
 *
 * What it does, on databases created for the run (`ea_recovery_<random>`, dropped at its end, whatever the exit):
 * 1. Crash. A child process (`support/recoveryProducer.ts`) runs BENCH_RECOVERY_DEPLOYMENTS (10,000) real
 *    deployments of a 5-job action on `SqlDeploymentStore` (recovery loop off, a 1-hour lease so that no heartbeat
 *    runs while they start); each blocks forever in a job drawn at random (seeded, uniform over the five), so the
 *    process ends up holding every deployment in flight. It reports its heap, then is killed with SIGKILL. Its
 *    leases are made expired (`lease_expires_at = now()`, the only write the bench makes to the runtime's rows),
 *    its rows are checked to be what a crash leaves (`crash state`), the tables are vacuumed and analyzed, and the
 *    database becomes the template of every later step.
 * 2. Heartbeat. On a copy of the crashed state, where one owner holds every deployment: the store's `heartbeat`
 *    with every id (what a process holding them all sends every interval), timed through the client and under
 *    EXPLAIN (ANALYZE, BUFFERS, WAL); first for the crashed owner, whom the planner's statistics know, then for an
 *    owner they do not know (every process started since the table was last analyzed); and the plan of the
 *    statement the store used before commit d4d3c64, which was quadratic for such an owner. See
 *    `support/recoveryHeartbeat.ts`.
 * 3. Recover. Each run copies the template (`CREATE DATABASE ... TEMPLATE`), waits until the dead process's leases
 *    expired, starts its recovery processes (`support/recoveryWorker.ts`: `Actions.layer` with the recovery loop
 *    on, the run's settings and the library's defaults otherwise, no-op jobs, a pool of 10 connections unless the
 *    run sets another), tells them all `GO` at once, and polls `count(*) WHERE status <> 'succeeded'` every
 *    100 ms until it is 0. Then it checks that every deployment succeeded, was claimed exactly once (lease epoch 2)
 *    and ran its crashed job exactly twice in all.
 *
 * How to read the tables:
 * - `crash state`: the deployments per job they crashed in, and whether every row is what the runtime writes
 *   before a crash (jobs before it `succeeded` with outputs, it `running` with its input, later ones `pending`).
 * - `heartbeat`: `client ms` is the store's call (round trip, server, decoding the rows), `EXPLAIN ANALYZE ms`
 *   the server's execution time of the same statement, `WAL bytes` and `buffers` (shared, hit + read) what it
 *   wrote and touched, `plan` its plan nodes. A process sends one such statement per heartbeat interval (default
 *   a third of the 30 s lease: 0.1 statement/s). `in-flight cost` adds the claim pass every process runs per poll
 *   interval while it finds nothing, the heap per in-flight deployment (settled heap of the crashed process with
 *   every deployment in flight, minus before the first, per deployment), and claim passes alone.
 * - `recovery`: per run, `wall s` from GO until every deployment succeeded (±0.1 s, the poll); `resumed/s` the
 *   deployments divided by it; `half s` when half had succeeded; `claimed all s` when the last claim that returned
 *   rows ended; `claims/s` the deployments claimed divided by that; `passes` the claims that returned rows;
 *   `claim ms` their median and largest duration (from the call to the decoded rows, waiting for a pooled
 *   connection included); `in flight` the most deployments a process had claimed and not finished at once;
 *   `commits/dep.` the database's commits during the run (claims and heartbeats included, session start-ups and
 *   the bench's polls excluded) per deployment; `node s`, `pg s` the CPU of the recovery processes and of their
 *   server backends; `busy` the machine's busy cores (out of all) during the run; `others s` the CPU time the
 *   machine spent on anything else meanwhile (busy minus node and pg: other load on a shared machine);
 *   `heartbeat max ms` the slowest heartbeat of a recovery process; `lease lost` local runs a recovery process
 *   stopped as `lease_lost` (its warnings); `epoch 2` deployments claimed exactly once. `defaults` are the
 *   library's (batch 100, poll 5 s, lease 30 s, at most 1,000 in flight); the run with a 600 s lease sends no
 *   heartbeat while it runs. A run still going after BENCH_RECOVERY_MAX_SECONDS is cut, and its `wall s`
 *   projected from its rate.
 *
 * Run: `npm run bench:recovery` (PostgreSQL; `DATABASE_URL` points at any database of the server, default
 * `postgres://postgres@127.0.0.1:5432/postgres`; the role must be allowed to create databases). Settings
 * (environment): BENCH_RECOVERY_DEPLOYMENTS (10000), BENCH_RECOVERY_SEED (1), BENCH_RECOVERY_BATCH (500),
 * BENCH_RECOVERY_POLL_MS (100) of the tuned runs, BENCH_RECOVERY_ROUNDS (2) of the runs with the defaults,
 * BENCH_RECOVERY_MAX_SECONDS (300) per run, BENCH_RECOVERY_FORMER_HEARTBEAT (0; 1 also runs the former heartbeat
 * statement under EXPLAIN ANALYZE, about 35 s at 10,000), BENCH_RECOVERY_JSON a file to write every figure to.
 */
import { Cause, type Context, Effect, Exit, Layer, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import { readFileSync, writeFileSync } from "node:fs"
import { median } from "./support/measure.ts"
import { adminLayer, backendPids, machineCpu, processCpuMillis, serverInfo, settledCounters, urlOf } from "./support/pgServer.ts"
import { describeMachine, fixed, machine, table, whole } from "./support/report.ts"
import {
  type ChildMessage,
  epochMillis,
  jobCount,
  type ProducerConfig,
  type WorkerConfig
} from "./support/recoveryAction.ts"
import {
  clientOf,
  type CrashState,
  crashState,
  expireLeases,
  ownBackendPid,
  recoveredState,
  scopedDatabase,
  unfinished,
  untilDisconnected,
  vacuum
} from "./support/recoveryDatabase.ts"
import {
  explainHeartbeat,
  handOver,
  expireAll,
  heldBy,
  roundTrip,
  timedHeartbeat,
  timedClaim
} from "./support/recoveryHeartbeat.ts"
import { Child } from "./support/recoveryProcesses.ts"
import {
  checkRun,
  crashTable,
  type HeartbeatCost,
  heartbeatTable,
  inFlightTable,
  type Production,
  recoveryColumns,
  recoveryRow,
  type RunConfig,
  type RunResult
} from "./support/recoveryReport.ts"

const numberSetting = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return Number.isInteger(value) && value >= 0 && process.env[name] !== "" && process.env[name] !== undefined
    ? value
    : fallback
}

const settings = {
  deployments: numberSetting("BENCH_RECOVERY_DEPLOYMENTS", 10_000),
  seed: numberSetting("BENCH_RECOVERY_SEED", 1),
  batch: numberSetting("BENCH_RECOVERY_BATCH", 500),
  pollMillis: numberSetting("BENCH_RECOVERY_POLL_MS", 100),
  rounds: numberSetting("BENCH_RECOVERY_ROUNDS", 2),
  maxSeconds: numberSetting("BENCH_RECOVERY_MAX_SECONDS", 300),
  formerHeartbeat: numberSetting("BENCH_RECOVERY_FORMER_HEARTBEAT", 0) === 1,
  json: process.env.BENCH_RECOVERY_JSON
}

/** The library's default lease, used by the recovery processes and the heartbeat measurements. */
const leaseTtlMillis = 30_000
/**
 * A lease long enough that the crashed process never sends a heartbeat while its deployments start: its first
 * comes a heartbeat interval (a third of this) after the runtime starts. Heartbeats over thousands of ids can be
 * slow and race with starts (see docs/benchmarks.md, Recovery), which would change the crash state from run to run.
 * The leases are made expired after the kill (`expireLeases`), as if this process had died long ago.
 */
const producerLeaseTtlMillis = 3_600_000
/** A recovery lease long enough that no heartbeat happens during a run. */
const longLeaseTtlMillis = 600_000
/** The crashed process's owner id. */
const deadOwner = "crashed-producer"
/** An owner id the planner's statistics have never seen, as every process started since the last ANALYZE. */
const freshOwner = `effect-actions-${crypto.randomUUID()}`

const log = (text: string): void => void process.stderr.write(`[recovery] ${text}\n`)

const loadAverage = (): string => {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim()
  } catch {
    return "unknown"
  }
}

/** A child for the scope, killed (SIGKILL) when the scope closes if it still runs. */
const scopedChild = (name: string, file: string, config: unknown): Effect.Effect<Child, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Child(name, file, config)),
    (child) => Effect.promise(() => child.kill("SIGKILL"))
  )

const waitFor = <A>(child: Child, accept: (message: ChildMessage) => A | undefined, timeoutMillis: number, from = 0) =>
  Effect.promise(() => child.waitFor(accept, timeoutMillis, from))

/** CPU milliseconds of each process, now. */
const cpuOf = (pids: ReadonlyArray<number>): Map<number, number> =>
  new Map(pids.map((pid) => [pid, processCpuMillis(pid)]))

/** CPU used between two readings, over the processes alive at the second one. */
const cpuBetween = (before: Map<number, number>, after: Map<number, number>): number => {
  let total = 0
  for (const [pid, millis] of after) if (millis > 0) total += millis - (before.get(pid) ?? 0)
  return total
}

type Admin = Context.Context<SqlClient.SqlClient>

// ---------------------------------------------------------------------------------------------------------------
// 1. crash

/** Runs the producer to a crash; returns the template database, what the producer reported, the crash state. */
const crash = (admin: Admin) =>
  Effect.gen(function*() {
    const template = yield* Effect.provide(scopedDatabase(), admin)
    const config: ProducerConfig = {
      url: urlOf(template),
      owner: deadOwner,
      count: settings.deployments,
      seed: settings.seed,
      startConcurrency: 32,
      leaseTtlMillis: producerLeaseTtlMillis,
      heartbeatMillis: producerLeaseTtlMillis / 3
    }
    log(`database ${template}: starting ${whole(settings.deployments)} deployments that block (load ${loadAverage()})`)
    const production = yield* Effect.scoped(Effect.gen(function*() {
      const producer = yield* scopedChild("producer", "recoveryProducer.ts", config)
      const produced = (yield* waitFor(producer, (m) => (m.type === "produced" ? m : undefined), 900_000)).value
      log(`all in flight after ${fixed(produced.millis / 1000)} s; killing the producer with SIGKILL`)
      yield* Effect.promise(() => producer.kill("SIGKILL"))
      const figures: Production = {
        millis: produced.millis,
        heapPerDeployment: (produced.heapInFlight - produced.heapBefore) / produced.count,
        rssMiB: produced.rssInFlight / 2 ** 20
      }
      return figures
    }))
    yield* Effect.provide(untilDisconnected(template), admin)
    const state = yield* Effect.provide(
      Effect.andThen(Effect.andThen(expireLeases, vacuum), crashState(deadOwner)),
      clientOf(template)
    )
    return { template, production, state }
  })

// ---------------------------------------------------------------------------------------------------------------
// heartbeat cost, on a copy of the crashed state

const repeat = <A, R>(times: number, effect: Effect.Effect<A, never, R>): Effect.Effect<Array<A>, never, R> =>
  Effect.forEach(Array.from({ length: times }, (_, i) => i), () => effect)

const measureHeartbeat = (admin: Admin, template: string) =>
  Effect.scoped(Effect.gen(function*() {
    const database = yield* Effect.provide(scopedDatabase(template), admin)
    log(`heartbeat of ${whole(settings.deployments)} leases, on a copy (load ${loadAverage()})`)
    return yield* Effect.provide(
      Effect.gen(function*() {
        const ids = yield* heldBy(deadOwner)
        const knownClient = (yield* repeat(3, timedHeartbeat(deadOwner, ids, leaseTtlMillis))).map((h) => h.millis)
        const knownExplained = yield* repeat(3, explainHeartbeat("join", deadOwner, ids, leaseTtlMillis, true))
        // every lease was just renewed: a claim finds nothing
        const idleClaims = yield* repeat(5, timedClaim("idle-probe", settings.batch, leaseTtlMillis))
        if (idleClaims.some((c) => c.claimed > 0)) return yield* Effect.die(new Error("the idle claim claimed"))
        const roundTrips = yield* repeat(21, roundTrip)
        yield* handOver(freshOwner)
        const freshClient = (yield* repeat(3, timedHeartbeat(freshOwner, ids, leaseTtlMillis))).map((h) => h.millis)
        const freshExplained = yield* repeat(3, explainHeartbeat("join", freshOwner, ids, leaseTtlMillis, true))
        if (settings.formerHeartbeat) log("the former heartbeat statement, owner unknown to the statistics (slow)")
        const former = yield* explainHeartbeat("in", freshOwner, ids, leaseTtlMillis, settings.formerHeartbeat)
        yield* expireAll
        const claimMillis = []
        for (const batch of [100, settings.batch]) {
          const passes = yield* repeat(3, timedClaim("claim-probe", batch, leaseTtlMillis))
          claimMillis.push({ batch, millis: passes.map((p) => p.millis) })
        }
        const cost: HeartbeatCost = {
          ids: ids.length,
          knownClient,
          knownExplained,
          freshClient,
          freshExplained,
          former,
          idleClaimBatch: settings.batch,
          idleClaimMillis: idleClaims.map((c) => c.millis),
          claimMillis,
          roundTripMillis: median(roundTrips.slice(1))
        }
        return cost
      }),
      clientOf(database)
    )
  }))

// ---------------------------------------------------------------------------------------------------------------
// 2. recover

const cores = machine().cores

const machineBusy = (before: { busy: number; total: number }, after: { busy: number; total: number }) =>
  after.total > before.total ? ((after.busy - before.busy) / (after.total - before.total)) * cores : Number.NaN

/** Polls until every deployment succeeded (or the run's cut); returns the progress samples. */
const pollProgress = (workers: ReadonlyArray<Child>, started: number, cutMillis: number) =>
  Effect.gen(function*() {
    const samples: Array<{ readonly at: number; readonly left: number }> = []
    while (true) {
      const left = yield* unfinished
      const at = epochMillis()
      samples.push({ at, left })
      if (left === 0 || at - started >= cutMillis) return samples
      const dead = workers.find((worker) => !worker.running)
      if (dead !== undefined) return yield* Effect.die(dead.failure("exited during the run"))
      yield* Effect.sleep("100 millis")
    }
  })

/** The progress samples at 5 s, 10 s, ... after `started`, and the last one. */
const everyFiveSeconds = (samples: ReadonlyArray<{ readonly at: number; readonly left: number }>, started: number) => {
  const picked: Array<number> = []
  for (let mark = 5_000; ; mark += 5_000) {
    const sample = samples.find((s) => s.at - started >= mark)
    if (sample === undefined) break
    picked.push(sample.left)
  }
  return [...picked, samples[samples.length - 1]?.left ?? Number.NaN]
}

const claimsOf = (workers: ReadonlyArray<Child>) =>
  workers.flatMap((worker) =>
    worker.messages.flatMap((m) => (m.type === "claim" ? [m] : []))
  )

/** One recovery run on a fresh copy of the template. */
const recover = (admin: Admin, template: string, crashed: CrashState, config: RunConfig, round: number) =>
  Effect.scoped(Effect.gen(function*() {
    const database = yield* Effect.provide(scopedDatabase(template), admin)
    const countersBefore = yield* Effect.provide(settledCounters(database), admin)
    const wait = crashed.latestExpiry + 500 - Date.now()
    if (wait > 0) {
      log(`waiting ${fixed(wait / 1000)} s for the dead process's leases to expire`)
      yield* Effect.sleep(`${Math.ceil(wait)} millis`)
    }
    const workers: Array<Child> = []
    for (let i = 0; i < config.processes; i++) {
      const workerConfig: WorkerConfig = {
        url: urlOf(database),
        owner: `recovery-${i + 1}`,
        leaseTtlMillis: config.leaseTtlMillis,
        pollMillis: config.pollMillis,
        batch: config.batch,
        maxConnections: config.maxConnections
      }
      workers.push(yield* scopedChild(`recovery-${i + 1}`, "recoveryWorker.ts", workerConfig))
    }
    for (const worker of workers) yield* waitFor(worker, (m) => (m.type === "ready" ? m : undefined), 60_000)
    const load = loadAverage()
    log(`${config.label}, round ${round + 1}: GO (load ${load})`)

    const measured = yield* Effect.provide(
      Effect.gen(function*() {
        const own = yield* ownBackendPid
        const backendsBefore = yield* Effect.provide(backendPids(database), admin)
        const serverBefore = cpuOf(backendsBefore.filter((pid) => pid !== own))
        const nodeBefore = cpuOf(workers.map((worker) => worker.pid))
        const machineBefore = machineCpu()
        const started = epochMillis()
        for (const worker of workers) worker.send("GO")
        const samples = yield* pollProgress(workers, started, settings.maxSeconds * 1000)
        const backends = yield* Effect.provide(backendPids(database), admin)
        const pgCpuMillis = cpuBetween(serverBefore, cpuOf(backends.filter((pid) => pid !== own)))
        const nodeCpuMillis = cpuBetween(nodeBefore, cpuOf(workers.map((worker) => worker.pid)))
        const busyCores = machineBusy(machineBefore, machineCpu())
        const state = yield* recoveredState
        return { samples, started, pgCpuMillis, nodeCpuMillis, busyCores, state }
      }),
      clientOf(database)
    )
    for (const worker of workers) worker.send("STOP")
    const done: Array<Extract<ChildMessage, { type: "done" }>> = []
    for (const worker of workers) {
      done.push((yield* waitFor(worker, (m) => (m.type === "done" ? m : undefined), 60_000)).value)
      yield* Effect.promise(() => worker.exited)
    }
    const countersAfter = yield* Effect.provide(settledCounters(database), admin)
    const sessions = countersAfter.sessions - countersBefore.sessions
    // every poll, the pid query and the final check are one commit each; so is every session's start-up
    const commits = countersAfter.commits - countersBefore.commits - sessions - measured.samples.length - 2

    const claims = claimsOf(workers)
    const productive = claims.filter((c) => c.claimed > 0)
    const lastClaimEnd = Math.max(...productive.map((c) => c.at + c.millis))
    const firstClaimEnd = Math.min(...productive.map((c) => c.at + c.millis))
    const claimed = productive.reduce((sum, c) => sum + c.claimed, 0)
    const last = measured.samples[measured.samples.length - 1]!
    const recovered = settings.deployments - last.left
    const wallMillis = last.at - measured.started
    const half = measured.samples.find((s) => s.left <= settings.deployments / 2)
    const result: RunResult = {
      config,
      round,
      load,
      recovered,
      wallMillis,
      projectedMillis: recovered === settings.deployments ? wallMillis : (wallMillis * settings.deployments) / recovered,
      firstClaimMillis: firstClaimEnd - measured.started,
      claimedAllMillis: lastClaimEnd - measured.started,
      claimed,
      claimPasses: productive.length,
      emptyPasses: claims.length - productive.length,
      claimMillisMedian: median(productive.map((c) => c.millis)),
      claimMillisMax: Math.max(...productive.map((c) => c.millis)),
      maxInFlight: done.map((d) => d.maxInFlight),
      finishedPerProcess: done.map((d) => d.finished),
      jobsExecuted: done.reduce((sum, d) => sum + d.jobs, 0),
      commitsPerDeployment: commits / recovered,
      nodeCpuMillis: measured.nodeCpuMillis,
      pgCpuMillis: measured.pgCpuMillis,
      busyCores: measured.busyCores,
      halfMillis: half === undefined ? Number.NaN : half.at - measured.started,
      state: measured.state,
      heartbeats: workers.flatMap((worker) => worker.messages.flatMap((m) => (m.type === "heartbeat" ? [m] : []))),
      progress: everyFiveSeconds(measured.samples, measured.started),
      leaseLost: workers.reduce((sum, worker) => sum + worker.output.filter((line) => line.includes("(lease_lost)")).length, 0)
    }
    log(
      `${config.label}: ${whole(recovered)} recovered in ${fixed(wallMillis / 1000, 2)} s, ` +
        `${whole(claimed)} claimed in ${fixed(result.claimedAllMillis / 1000, 2)} s`
    )
    return result
  }))

// ---------------------------------------------------------------------------------------------------------------
// main

/** A run of `processes` recovery processes; options left out take the library's defaults. */
const run = (
  processes: number,
  options: {
    readonly batch?: number
    readonly pollMillis?: number
    readonly leaseTtlMillis?: number
    readonly maxConnections?: number
  } = {}
): RunConfig => {
  const set = [
    options.batch === undefined ? undefined : `batch ${options.batch}`,
    options.pollMillis === undefined ? undefined : `poll ${options.pollMillis} ms`,
    options.leaseTtlMillis === undefined ? undefined : `lease ${options.leaseTtlMillis / 1000} s`,
    options.maxConnections === undefined ? undefined : `pool ${options.maxConnections}`
  ].filter((part) => part !== undefined)
  return {
    label: `${processes} process${processes > 1 ? "es" : ""}, ${set.length === 0 ? "defaults" : set.join(", ")}`,
    processes,
    batch: options.batch,
    pollMillis: options.pollMillis,
    leaseTtlMillis: options.leaseTtlMillis,
    maxConnections: options.maxConnections
  }
}

/** Run every round: one and three processes with the library's recovery defaults. */
const mainRuns: ReadonlyArray<RunConfig> = [run(1), run(3)]

/**
 * Run once: a bigger batch polled more often; the defaults without heartbeats during the run (long lease); and one
 * process with three times the connections (as many as three processes have).
 */
const extraRuns: ReadonlyArray<RunConfig> = [
  run(1, { batch: settings.batch, pollMillis: settings.pollMillis }),
  run(3, { batch: settings.batch, pollMillis: settings.pollMillis }),
  run(1, { leaseTtlMillis: longLeaseTtlMillis }),
  run(1, { maxConnections: 30 })
]

const program = Effect.scoped(Effect.gen(function*() {
  const admin = yield* Layer.build(adminLayer)
  const info = yield* Effect.provide(serverInfo, admin)
  console.log(describeMachine(machine()))
  console.log(
    `server:  PostgreSQL ${info.version}, fsync=${info.fsync}, synchronous_commit=${info.synchronousCommit}, ` +
      `shared_buffers=${info.sharedBuffers}`
  )
  console.log(
    `run:     ${whole(settings.deployments)} deployments of a 5-job action, seed ${settings.seed}; lease ${leaseTtlMillis / 1000} s; ` +
      `${settings.rounds} round(s) of the main runs; load before: ${loadAverage()}`
  )
  const crashed = yield* crash(admin)
  const heartbeat = yield* measureHeartbeat(admin, crashed.template)
  const expectedJobs = crashed.state.byJob.reduce((sum, count, job) => sum + count * (jobCount - job), 0)
  const results: Array<RunResult> = []
  for (let round = 0; round < settings.rounds; round++) {
    for (const config of mainRuns) results.push(yield* recover(admin, crashed.template, crashed.state, config, round))
  }
  for (const config of extraRuns) results.push(yield* recover(admin, crashed.template, crashed.state, config, 0))

  console.log("\ncrash state (what the killed process left)\n")
  console.log(crashTable(crashed.state, crashed.production))
  console.log("\nheartbeat (one owner holding every deployment; a copy of the crashed state)\n")
  console.log(heartbeatTable(heartbeat))
  console.log("")
  console.log(inFlightTable(heartbeat, crashed.production))
  console.log("\nrecovery\n")
  console.log(table(recoveryColumns, results.map((r) => recoveryRow(r, settings.deployments))))
  console.log("\nheartbeats of the recovery processes during the runs (ids: client ms)\n")
  for (const r of results) {
    console.log(`${r.config.label}, round ${r.round + 1}: ${r.heartbeats.map((h) => `${whole(h.ids)}: ${whole(h.millis)}`).join("; ") || "none"}`)
  }
  console.log("\ndeployments not succeeded yet, every 5 s from GO (last: at the end)\n")
  for (const r of results) {
    console.log(`${r.config.label}, round ${r.round + 1}: ${r.progress.map(whole).join(", ")}`)
  }
  console.log(`\nload after: ${loadAverage()}; loads at GO: ${results.map((r) => r.load.split(" ")[0]).join(", ")}`)
  console.log(`jobs expected to run on resume: ${whole(expectedJobs)} (each deployment: its crashed job again, then the rest)`)
  if (settings.json !== undefined) {
    writeFileSync(settings.json, JSON.stringify({ settings, info, crashed, heartbeat, results }, null, 2))
  }
  const problems = [
    ...(crashed.state.inconsistentJobs === 0 && crashed.state.offPlan === 0 ? [] : ["the crash state is not what a crash leaves"]),
    ...results.flatMap((r) => checkRun(r, settings.deployments, expectedJobs))
  ]
  if (problems.length > 0) {
    console.log(`\nCHECKS FAILED:\n${problems.map((problem) => `- ${problem}`).join("\n")}`)
    process.exitCode = 1
  } else {
    console.log("checks: every complete run recovered every deployment, each claimed exactly once, each job run as expected")
  }
}))

const fiber = Effect.runFork(program)
process.once("SIGINT", () => fiber.interruptUnsafe())
fiber.addObserver((exit) => {
  if (Exit.isFailure(exit)) {
    process.stderr.write(`recovery bench failed: ${Cause.pretty(exit.cause)}\n`)
    process.exitCode = 1
  }
})
