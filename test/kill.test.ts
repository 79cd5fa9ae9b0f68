import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import { promisify } from "node:util"
import { seededRandom } from "./support/invariants.ts"
import { checkRun, type RunReport } from "./support/killChecks.ts"
import {
  type Contents,
  createTables,
  cutConnections,
  dropAll,
  progress,
  readContents,
  unsettled
} from "./support/killDatabase.ts"
import { makePlan } from "./support/killPlan.ts"
import { Supervisor } from "./support/killSupervisor.ts"
import { databaseUrl, PgLive, uniquePrefix } from "./support/postgres.ts"

/**
 * Real worker processes (test/support/killWorker.ts) run deployments of a 5-job action on PostgreSQL, their jobs
 * recording what they do and undo in a side-effect table; the test kills them with SIGKILL at random moments and
 * starts them again, and once every deployment settled it checks on the database that none was lost, duplicated,
 * left half-done or advanced by two processes at once, and that each was kept (succeeded) or rolled back exactly
 * as planned (test/support/killChecks.ts).
 *
 * The seed (`KILL_SEED=<n> npm test`) makes every choice replayable: the deployments and which of them fail, the
 * workers' lifetimes, the jobs' pauses; the timing of the machine still varies from run to run. `KILL_COUNT=<n>`
 * changes the number of kills of the main scenario. `KILL_RESTART_SERVER=1` also restarts the PostgreSQL server
 * (`pg_ctlcluster <newest version> ${KILL_PG_CLUSTER:-main} restart`) in the middle of the connection-loss scenario:
 * it breaks whatever else uses that server at that moment, so it is never on by default (point `DATABASE_URL` and
 * `KILL_PG_CLUSTER` to a cluster of its own to run it beside other work).
 *
 * Debugging a failed run: its tables are kept (the prefix is printed); `KILL_LOG_DIR=<dir>` writes every worker's
 * output to `<dir>/<owner>.log`, `KILL_DEBUG=1` makes the workers log every submission, job start and side effect,
 * and `KILL_SETTLE_SECONDS=<n>` changes the wait for a run to settle after the last kill (60 s by default; a run
 * settles in a few seconds).
 *
 * The side effects are fenced the way docs/durability.md asks jobs to use `fencingToken`: a write is applied only
 * while its process holds the deployment's lease at that epoch (refused writes are counted: they happen only when a
 * live process lost a lease, e.g. paused longer than the lease). The checks then hold whatever the timing.
 */
const seed = Number(process.env.KILL_SEED ?? 20261127)
const killCount = Number(process.env.KILL_COUNT ?? 200)
const restartServer = process.env.KILL_RESTART_SERVER === "1"
/** The cluster `KILL_RESTART_SERVER` restarts: the one `DATABASE_URL` points to (`main` unless told otherwise). */
const restartCluster = process.env.KILL_PG_CLUSTER ?? "main"
const execFileAsync = promisify(execFile)
const settleSeconds = Number(process.env.KILL_SETTLE_SECONDS ?? 60)

const leases = { leaseTtlMillis: 2000, heartbeatMillis: 300, pollMillis: 100, batch: 25 } as const

interface Scenario {
  readonly name: string
  readonly seed: number
  readonly slots: number
  readonly kills: number
  readonly deployments: number
  readonly lifetime: (random: () => number) => number
  /** Cut every worker connection this often (milliseconds) during the kill phase. */
  readonly cutEvery?: number
  /** Restart the server once, this long (milliseconds) after the start. */
  readonly restartAfter?: number
}

interface Outcome {
  readonly report: RunReport
  readonly contents: Contents
  readonly plan: ReturnType<typeof makePlan>
  readonly summary: string
  readonly kills: number
  readonly crashes: ReadonlyArray<string>
}

const seconds = (millis: number) => `${(millis / 1000).toFixed(1)} s`

/** The PostgreSQL version directory of the local cluster, for `pg_ctlcluster`. */
const clusterVersion = () => Fs.readdirSync("/etc/postgresql").sort().at(-1)!

/** Runs a scenario and checks its outcome (before its tables are dropped: they are kept when a check fails). */
const runScenario = (scenario: Scenario) =>
  Effect.gen(function*() {
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)
    assert.isTrue(
      major > 22 || (major === 22 && minor >= 18),
      `the workers are .ts files run by ${process.execPath} (Node ${process.version}): Node 22.18 or later is needed`
    )
    const started = Date.now()
    const prefix = uniquePrefix()
    yield* createTables(prefix)
    // Dropped when the run passes; kept for inspection when it fails.
    yield* Effect.addFinalizer((exit) =>
      Exit.isSuccess(exit)
        ? dropAll(prefix)
        : Effect.sync(() => console.log(`kill test (${scenario.name}): tables ${prefix}* kept for inspection`))
    )
    const plan = makePlan(scenario.seed, scenario.deployments, scenario.kills)
    const supervisor = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const supervisor = new Supervisor({
          databaseUrl,
          prefix,
          seed: scenario.seed,
          slots: scenario.slots,
          plan,
          ...leases,
          kills: scenario.kills,
          lifetime: scenario.lifetime
        })
        supervisor.start()
        return supervisor
      }),
      (supervisor) => Effect.promise(() => supervisor.stop())
    )

    let cuts = 0
    let terminated = 0
    const random = seededRandom(scenario.seed ^ 0x5eed)
    const cutter = scenario.cutEvery === undefined ? undefined : yield* Effect.forkChild(
      Effect.gen(function*() {
        while (!supervisor.killsDone) {
          yield* Effect.sleep(`${Math.round(scenario.cutEvery! * (0.5 + random()))} millis`)
          terminated += yield* cutConnections(supervisor.applicationName)
          cuts++
        }
      })
    )
    let restarted = "no"
    const restartAfter = scenario.restartAfter
    const restarter = restartAfter === undefined ? undefined : yield* Effect.forkChild(
      Effect.gen(function*() {
        yield* Effect.sleep(`${restartAfter} millis`)
        const version = clusterVersion()
        const begin = Date.now()
        yield* Effect.tryPromise(() =>
          execFileAsync("pg_ctlcluster", ["--skip-systemctl-redirect", version, restartCluster, "restart"])
        ).pipe(Effect.orDie)
        restarted = `yes (${version}/${restartCluster}, ${Date.now() - begin} ms)`
      })
    )

    yield* Effect.promise(() => supervisor.killPhase())
    const killPhaseEnded = Date.now()
    if (cutter !== undefined) yield* Fiber.join(cutter)
    if (restarter !== undefined) yield* Fiber.join(restarter)

    // Settle: the workers left running finish (or roll back) everything, resuming what the killed ones left.
    const settled = yield* Effect.gen(function*() {
      while (true) {
        const { active, total } = yield* progress(prefix)
        if (total === scenario.deployments && active === 0) return true
        yield* Effect.sleep("200 millis")
      }
    }).pipe(Effect.timeoutOrElse({ duration: `${settleSeconds} seconds`, orElse: () => Effect.succeed(false) }))
    const settledAt = Date.now()
    if (!settled) {
      const { active, total } = yield* progress(prefix)
      const stuck = yield* unsettled(prefix, supervisor.applicationName)
      assert.fail(
        `kill test (${scenario.name}, seed ${scenario.seed}): not settled ${settleSeconds} s after the last kill: ` +
          `${total} of ${scenario.deployments} deployments exist, ${active} still active: ${JSON.stringify(stuck)}; ` +
          `crashes: ${supervisor.stats.crashes.map((crash) => crash.output).join("\n---\n")}`
      )
    }
    yield* Effect.promise(() => supervisor.stop())

    const contents = yield* readContents(prefix)
    const report = checkRun(plan, contents.deployments, contents.jobRuns, contents.effects, contents.errors)
    const { counts } = report
    const stats = supervisor.stats
    const startup = [...stats.startupMillis].sort((a, b) => a - b)
    const summary = `kill test (${scenario.name}, seed ${scenario.seed}): ${stats.kills} SIGKILLs of ` +
      `${scenario.slots} workers, ${stats.startedProcesses} processes started (${stats.failedStarts} failed starts, ` +
      `${stats.crashes.length} crashes, startup median ${startup[Math.floor(startup.length / 2)] ?? 0} ms, ` +
      `${(stats.cpuSeconds / Math.max(1, stats.kills)).toFixed(2)} s of CPU per killed process)` +
      (scenario.cutEvery === undefined ? "" : `, ${cuts} connection cuts (${terminated} connections terminated)`) +
      (scenario.restartAfter === undefined ? "" : `, server restarted: ${restarted}`) +
      `; ${counts.deployments} deployments: ${counts.succeeded} succeeded, ${counts.rolledBack} rolled back, ` +
      `${counts.resumed} taken over (lease epoch > 1), max epoch ${counts.maxEpoch}; ` +
      `${contents.attemptsAboveOne} jobs started again, ${counts.jobsRunAgain} ran their side effect again, ` +
      `${counts.rollbacksRunAgain} rollbacks ran again, ${stats.resubmitted} keys submitted again, ` +
      `${counts.refusedWrites} stale writes refused, ${counts.sideEffects} side effects; ` +
      `${report.violations.length} violations; ${seconds(settledAt - started)} ` +
      `(kill phase ${seconds(killPhaseEnded - started)}, settled ${seconds(settledAt - killPhaseEnded)} later)`
    console.log(summary)
    const outcome: Outcome = {
      report,
      contents,
      plan,
      summary,
      kills: stats.kills,
      crashes: stats.crashes.map((crash) =>
        `${crash.owner} exited on its own (code ${crash.code}, signal ${crash.signal}):\n${crash.output}`
      )
    }
    yield* Effect.sync(() => assertOutcome(outcome, scenario))
  }).pipe(Effect.scoped, Effect.provide(PgLive))

/** The checks of a run, then proof that they are not vacuous: each corruption of the run's data is caught. */
const assertOutcome = (outcome: Outcome, scenario: Scenario) => {
  const replay = `replay with KILL_SEED=${scenario.seed}`
  if (outcome.crashes.length > 0) {
    assert.fail(`${outcome.crashes.length} workers crashed (${replay}):\n${outcome.crashes.join("\n---\n")}`)
  }
  const { violations } = outcome.report
  if (violations.length > 0) {
    assert.fail(
      `${violations.length} invariant violations (${replay}; ${outcome.summary}):\n${violations.slice(0, 40).join("\n")}`
    )
  }
  assert.isAtLeast(outcome.kills, scenario.kills)
  assert.strictEqual(outcome.report.counts.deployments, scenario.deployments)
  assert.isAbove(outcome.report.counts.succeeded, 0)
  assert.isAbove(outcome.report.counts.rolledBack, 0)
  assert.isAbove(outcome.report.counts.resumed, 0, "some deployments were resumed by another process")
  for (const [mutation, expected, corrupt] of mutations) {
    const { deployments, effects, errors, jobRuns } = corrupt(outcome.contents)
    const caught = checkRun(outcome.plan, deployments, jobRuns, effects, errors).violations
    assert.isTrue(
      caught.some((violation) => violation.includes(expected)),
      `the checks catch ${mutation} ("${expected}"), got: ${caught.slice(0, 5).join("; ")}`
    )
  }
}

type Mutation = (contents: Contents) => Pick<Contents, "deployments" | "jobRuns" | "effects" | "errors">

/** Corruptions of a settled run that the checks must catch: what is changed, what the checks must say, how. */
const mutations: ReadonlyArray<readonly [string, string, Mutation]> = [
  ["a lost side effect of a succeeded deployment", "succeeded without the side effect of job", (c) => {
    const id = c.deployments.find((d) => d.status === "succeeded")!.id
    return { ...c, effects: c.effects.filter((e) => !(e.deploymentId === id && e.kind === "do" && e.job === 2)) }
  }],
  ["a rollback that never ran", "its rollback never ran", (c) => {
    const id = c.deployments.find((d) => d.status === "rolled_back")!.id
    return { ...c, effects: c.effects.filter((e) => !(e.deploymentId === id && e.kind === "undo" && e.job === 0)) }
  }],
  ["a write under an older epoch after a newer one (two owners at once)", "epoch went back", (c) => {
    const last = c.effects.findLast((e) => e.applied && e.epoch > 1)!
    return { ...c, effects: [...c.effects, { ...last, epoch: last.epoch - 1, owner: "an-older-owner" }] }
  }],
  ["two processes under one epoch", "used by two processes", (c) => {
    const first = c.effects.find((e) => e.applied)!
    return { ...c, effects: [...c.effects, { ...first, owner: `${first.owner}-twin`, applied: false }] }
  }],
  ["a job that ran again after a later job started", "had started", (c) => {
    const id = c.deployments.find((d) => d.status === "succeeded")!.id
    return { ...c, effects: [...c.effects, c.effects.find((e) => e.deploymentId === id && e.job === 0)!] }
  }],
  ["a rollback out of order", "ran after the rollback of job", (c) => {
    const rolledBack = new Set(c.deployments.filter((d) => d.status === "rolled_back").map((d) => d.id))
    const undo = c.effects.find((e) => e.applied && e.kind === "undo" && e.job > 0 && rolledBack.has(e.deploymentId))!
    return { ...c, effects: [...c.effects, undo] }
  }],
  ["a deployment left running", "did not settle", (c) => ({
    ...c,
    deployments: c.deployments.map((d, i) => i === 0 ? { ...d, status: "running" } : d)
  })],
  ["a deployment lost", "0 deployments (exactly one expected)", (c) => ({ ...c, deployments: c.deployments.slice(1) })],
  ["a key with two deployments", "2 deployments (exactly one expected)", (c) => ({
    ...c,
    deployments: [...c.deployments, { ...c.deployments[0]!, id: crypto.randomUUID() }]
  })],
  ["a deployment that ended otherwise than planned", "planned to end", (c) => ({
    ...c,
    deployments: c.deployments.map((d) => d.status === "succeeded" ? { ...d, status: "rolled_back" } : d)
  })],
  ["a lease kept after the end", "still leased", (c) => ({
    ...c,
    deployments: c.deployments.map((d, i) => i === 0 ? { ...d, owner: "a-live-owner" } : d)
  })],
  ["corrupt data reported", "error log entry StoredDataCorrupt", (c) => ({
    ...c,
    errors: [...c.errors, { deploymentId: c.deployments[0]!.id, tag: "StoredDataCorrupt", phase: "resume", message: "" }]
  })]
]

/** Mostly short lives (kills inside the first jobs and the resubmission), some long ones (deep into runs). */
const lifetime = (random: () => number) => {
  const r = random()
  return r < 0.5 ? r * 600 : r < 0.9 ? 300 + (r - 0.5) * 3000 : 1500 + (r - 0.9) * 20000
}

describe("Actions under SIGKILL (PostgreSQL, real processes)", () => {
  const main: Scenario = {
    name: "3 workers",
    seed,
    slots: 3,
    kills: killCount,
    deployments: 360,
    lifetime
  }
  it.live(`every deployment settles correctly when 3 workers are killed ${killCount} times (seed ${seed})`, () =>
    runScenario(main), { timeout: 400_000 })

  const connections: Scenario = {
    name: restartServer ? "2 workers, connections cut, server restarted" : "2 workers, connections cut",
    seed: seed + 1,
    slots: 2,
    kills: 30,
    deployments: 100,
    lifetime: (random) => 500 + random() * 2000,
    cutEvery: 1500,
    ...(restartServer ? { restartAfter: 6000 } : {})
  }
  it.live(
    `every deployment settles correctly when 2 workers are killed and lose their connections (seed ${seed + 1})`,
    () => runScenario(connections),
    { timeout: 200_000 }
  )
})

