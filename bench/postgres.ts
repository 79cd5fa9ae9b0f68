/**
 * PostgreSQL benchmark: effect-actions against a hand-written floor and effect/workflow, on one local server.
 *
 * What it measures: deployments of a 5-step pipeline (no-op steps passing on a 122-byte JSON value), run at
 * concurrency 1, 16 and 64 by three systems on the same `@effect/sql-pg` pool settings, in a database created for
 * the run (and dropped at its end):
 * - `floor`: exactly the six single-row transactions a 5-job deployment needs (one INSERT, five fenced UPDATEs);
 * - `actions`: effect-actions, an action of five jobs on `SqlDeploymentStore` (`Actions.layer` with
 *   `recovery: { enabled: false }`, so the background recovery loop adds no queries);
 * - `workflow`: effect/workflow, a workflow of five activities on `ClusterWorkflowEngine` over
 *   `SingleRunner.layer()` (SQL message storage, SQL runner storage).
 * See `support/pgSystems.ts` for the exact work of each.
 *
 * Method: one batch = one system at one concurrency on a fresh pool and emptied tables: a warm-up (which also
 * opens the pool's connections), then `BENCH_PG_DEPLOYMENTS` timed deployments. Rounds run every concurrency and,
 * within it, the three systems one after another (floor, actions, workflow), so slow drifts of a shared machine
 * hit all three alike; figures are medians over rounds. Before the rounds, one diagnostic pass per system counts
 * round trips and commits per deployment on a pool whose sockets count `ReadyForQuery` messages.
 *
 * Columns (how to read them):
 * - `deployments/s`: timed deployments divided by their wall-clock time;
 * - `step p50/p99 ms`: step-to-step latency: the time between the starts of consecutive jobs (activities), taken
 *   inside the no-op steps; for the floor, the time of one fenced UPDATE;
 * - `commits/dep.`: `pg_stat_database.xact_commit` of the bench database after the batch's pool closed, minus
 *   before it opened, minus one per session established (a backend commits once while it starts), minus what
 *   opening and closing the system costs with no deployment (measured once), divided by the deployments of the
 *   batch (warm-up included: they ran on that pool). Statistics are read from the `postgres` database, so reading
 *   them adds no commit;
 * - `node ms/dep.`, `pg ms/dep.`: CPU time of this process and of the bench database's server backends (from
 *   `/proc`) during the timed deployments, per deployment; `busy`: the machine's busy CPUs during the batch (out
 *   of all cores; what node and pg do not explain is other load, or PostgreSQL's background processes);
 * - `WAL B/dep.`: bytes of write-ahead log the server wrote during the timed deployments, per deployment (the whole
 *   server's: checkpoints' full-page images and autovacuum included, alike for every system).
 *
 * Run: `npm run bench:pg` (needs PostgreSQL; `DATABASE_URL` points at any database of the server, default
 * `postgres://postgres@127.0.0.1:5432/postgres`; the role must be allowed to create databases). Settings
 * (environment): BENCH_PG_DEPLOYMENTS timed per batch (1000), BENCH_PG_ROUNDS (3), BENCH_PG_CONCURRENCY (1,16,64),
 * BENCH_PG_POOL max connections of every pool (32), BENCH_PG_WORKFLOW_SERIAL timed deployments of `workflow` at
 * concurrency 1 (BENCH_PG_DEPLOYMENTS), BENCH_PG_SYSTEMS to run a subset (floor,actions,workflow),
 * BENCH_PG_JSON a file to write every batch's figures to.
 */
import { Cause, Effect, Exit, Fiber, References } from "effect"
import type { SqlClient } from "effect/sql"
import { readFileSync, writeFileSync } from "node:fs"
import { poolLayer, type PoolSettings, type RoundTrips } from "./support/pgPool.ts"
import {
  adminLayer,
  backendPids,
  benchDatabase,
  machineCpu,
  processCpuMillis,
  serverInfo,
  type ServerInfo,
  settledCounters,
  urlOf,
  walBytesSince,
  walPosition
} from "./support/pgServer.ts"
import { type Deploy, stepCount, type System, systems, Transitions, valueFor } from "./support/pgSystems.ts"
import { median, quantile } from "./support/measure.ts"
import { describeMachine, fixed, machine, table, whole } from "./support/report.ts"

const numberSetting = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return Number.isInteger(value) && value > 0 ? value : fallback
}

const listSetting = (name: string, fallback: ReadonlyArray<string>): ReadonlyArray<string> =>
  process.env[name]?.split(",").map((item) => item.trim()).filter((item) => item !== "") ?? fallback

const settings = {
  deployments: numberSetting("BENCH_PG_DEPLOYMENTS", 1000),
  rounds: numberSetting("BENCH_PG_ROUNDS", 3),
  concurrencies: listSetting("BENCH_PG_CONCURRENCY", ["1", "16", "64"]).map(Number),
  pool: numberSetting("BENCH_PG_POOL", 32),
  workflowSerial: numberSetting("BENCH_PG_WORKFLOW_SERIAL", numberSetting("BENCH_PG_DEPLOYMENTS", 1000)),
  systems: listSetting("BENCH_PG_SYSTEMS", systems.map((system) => system.name)),
  json: process.env.BENCH_PG_JSON
}

const machineCores = machine().cores

/** Warm-up deployments of a batch: enough to open the connections the concurrency uses and to warm the JIT. */
const warmupFor = (concurrency: number): number => Math.max(32, 2 * concurrency)

/** Timed deployments of a batch. */
const countFor = (system: System, concurrency: number): number =>
  system.name === "workflow" && concurrency === 1 ? settings.workflowSerial : settings.deployments

const selected = systems.filter((system) => settings.systems.includes(system.name))

let sequence = 0
/** Distinct deployment ids (the workflow engine joins executions with equal idempotency keys). */
const nextIds = (system: System, count: number): Array<string> =>
  Array.from({ length: count }, () => `${system.name}-${(sequence++).toString().padStart(8, "0")}`)

const runAll = (deploy: Deploy, ids: ReadonlyArray<string>, concurrency: number) =>
  Effect.forEach(ids, deploy, { concurrency, discard: true })

// ---------------------------------------------------------------------------------------------------------------
// one batch

/** What the server reports for one system opened and closed around `use`. */
interface Counted<A> {
  /** Commits of the bench database, minus one per session established (its startup's own transaction). */
  readonly commits: number
  /** Sessions (connections) established. */
  readonly sessions: number
  readonly value: A
}

/**
 * Empties the system's tables, then counts the commits of the bench database from before `use` opens the
 * system's pool until after it closed (every backend of the pool gone, so every commit flushed). A new session
 * commits once while it starts (the server reads its catalogs in a transaction); those commits are the pool's,
 * not the deployments', and are left out.
 */
const counted = <A>(
  database: string,
  system: System,
  use: Effect.Effect<A, unknown, SqlClient.SqlClient>,
  pool: PoolSettings
): Effect.Effect<Counted<A>, unknown, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    yield* Effect.provide(system.truncate, poolLayer({ ...pool, maxConnections: 1 }))
    const before = yield* settledCounters(database)
    const value = yield* use
    const after = yield* settledCounters(database)
    const sessions = after.sessions - before.sessions
    return { commits: after.commits - before.commits - sessions, sessions, value }
  })

/** CPU times at one moment: this process, the given server backends, the machine. */
const cpuSnapshot = (pids: ReadonlyArray<number>) => {
  const usage = process.cpuUsage()
  return {
    node: (usage.user + usage.system) / 1000,
    backends: new Map(pids.map((pid) => [pid, processCpuMillis(pid)])),
    machine: machineCpu()
  }
}

/** The figures of one batch. */
interface Batch {
  readonly round: number
  readonly system: System["name"]
  readonly concurrency: number
  readonly deployments: number
  readonly perSecond: number
  readonly stepP50: number
  readonly stepP99: number
  readonly commitsPerDeployment: number
  readonly nodeMsPerDeployment: number
  readonly pgMsPerDeployment: number
  /** Bytes of write-ahead log per timed deployment (the whole server's, see `walBytesSince`). */
  readonly walPerDeployment: number
  /** Busy CPUs of the whole machine during the timed deployments. */
  readonly busyCores: number
}

/** What the timed deployments of a batch took: wall-clock and CPU time, in milliseconds. */
interface Timed {
  readonly elapsed: number
  readonly nodeMillis: number
  readonly pgMillis: number
  readonly walBytes: number
  readonly busyCores: number
}

/** Opens the system on a fresh pool, warms it up, then times `count` deployments and the CPU they use. */
const timeDeployments = (
  database: string,
  system: System,
  pool: PoolSettings,
  transitions: Transitions,
  concurrency: number
): Effect.Effect<Timed, unknown, SqlClient.SqlClient> =>
  Effect.scoped(Effect.gen(function*() {
    const deploy = yield* system.open(poolLayer(pool), transitions)
    yield* runAll(deploy, nextIds(system, warmupFor(concurrency)), concurrency)
    transitions.reset()
    const pidsBefore = yield* backendPids(database)
    const start = cpuSnapshot(pidsBefore)
    const wal = yield* walPosition
    const started = performance.now()
    yield* runAll(deploy, nextIds(system, countFor(system, concurrency)), concurrency)
    const elapsed = performance.now() - started
    const walBytes = yield* walBytesSince(wal)
    const pids = [...new Set([...pidsBefore, ...(yield* backendPids(database))])]
    const end = cpuSnapshot(pids)
    const machineTicks = end.machine.total - start.machine.total
    return {
      elapsed,
      nodeMillis: end.node - start.node,
      pgMillis: pids.reduce((sum, pid) => sum + (end.backends.get(pid) ?? 0) - (start.backends.get(pid) ?? 0), 0),
      walBytes,
      busyCores: machineTicks > 0
        ? ((end.machine.busy - start.machine.busy) / machineTicks) * machineCores
        : Number.NaN
    }
  }))

const batch = (
  database: string,
  system: System,
  concurrency: number,
  round: number,
  baseline: number
): Effect.Effect<Batch, unknown, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const pool: PoolSettings = { url: urlOf(database), maxConnections: settings.pool }
    const transitions = new Transitions()
    const warmup = warmupFor(concurrency)
    const count = countFor(system, concurrency)
    const timed = timeDeployments(database, system, pool, transitions, concurrency)
    const { commits, value } = yield* counted(database, system, timed, pool)
    return {
      round,
      system: system.name,
      concurrency,
      deployments: count,
      perSecond: count / (value.elapsed / 1000),
      stepP50: quantile(transitions.samples, 0.5),
      stepP99: quantile(transitions.samples, 0.99),
      commitsPerDeployment: (commits - baseline) / (warmup + count),
      nodeMsPerDeployment: value.nodeMillis / count,
      pgMsPerDeployment: value.pgMillis / count,
      walPerDeployment: value.walBytes / count,
      busyCores: value.busyCores
    }
  })

// ---------------------------------------------------------------------------------------------------------------
// diagnostics: round trips and commits per deployment, and the fixed cost of opening a system

/** Per system: commits and round trips of opening and closing it, and per deployment. */
interface Diagnosis {
  readonly system: System["name"]
  readonly openCommits: number
  readonly openRoundTrips: number
  readonly commitsPerDeployment: number
  readonly roundTripsPerDeployment: number
}

const diagnosisDeployments = 200

const diagnose = (database: string, system: System): Effect.Effect<Diagnosis, unknown, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const pool: PoolSettings = { url: urlOf(database), maxConnections: settings.pool }
    const run = (deployments: number) => {
      const roundTrips: RoundTrips = { count: 0 }
      const use = Effect.scoped(Effect.gen(function*() {
        const deploy = yield* system.open(poolLayer(pool, roundTrips), new Transitions())
        yield* runAll(deploy, nextIds(system, deployments), 16)
      }))
      // every session's startup ends with one ReadyForQuery too
      return Effect.map(counted(database, system, use, pool), ({ commits, sessions }) => ({
        commits,
        roundTrips: roundTrips.count - sessions
      }))
    }
    const empty = yield* run(0)
    const loaded = yield* run(diagnosisDeployments)
    return {
      system: system.name,
      openCommits: empty.commits,
      openRoundTrips: empty.roundTrips,
      commitsPerDeployment: (loaded.commits - empty.commits) / diagnosisDeployments,
      roundTripsPerDeployment: (loaded.roundTrips - empty.roundTrips) / diagnosisDeployments
    }
  })

// ---------------------------------------------------------------------------------------------------------------
// report

const byKey = (batches: ReadonlyArray<Batch>, system: System["name"], concurrency: number) =>
  batches.filter((b) => b.system === system && b.concurrency === concurrency)

const medianOf = (batches: ReadonlyArray<Batch>, pick: (b: Batch) => number): number => median(batches.map(pick))

const resultTable = (batches: ReadonlyArray<Batch>): string => {
  const rows: Array<Array<string>> = []
  for (const concurrency of settings.concurrencies) {
    for (const system of selected) {
      const group = byKey(batches, system.name, concurrency)
      if (group.length === 0) continue
      rows.push([
        String(concurrency),
        system.label,
        whole(medianOf(group, (b) => b.deployments)),
        whole(medianOf(group, (b) => b.perSecond)),
        fixed(medianOf(group, (b) => b.stepP50), 2),
        fixed(medianOf(group, (b) => b.stepP99), 2),
        fixed(medianOf(group, (b) => b.commitsPerDeployment), 2),
        fixed(medianOf(group, (b) => b.nodeMsPerDeployment), 2),
        fixed(medianOf(group, (b) => b.pgMsPerDeployment), 2),
        whole(medianOf(group, (b) => b.walPerDeployment)),
        fixed(medianOf(group, (b) => b.busyCores), 2)
      ])
    }
  }
  return table(
    [
      { title: "conc.", numeric: true },
      { title: "system" },
      { title: "timed", numeric: true },
      { title: "deployments/s", numeric: true },
      { title: "step p50 ms", numeric: true },
      { title: "step p99 ms", numeric: true },
      { title: "commits/dep.", numeric: true },
      { title: "node ms/dep.", numeric: true },
      { title: "pg ms/dep.", numeric: true },
      { title: "WAL B/dep.", numeric: true },
      { title: "busy cores", numeric: true }
    ],
    rows
  )
}

const roundsTable = (batches: ReadonlyArray<Batch>): string =>
  table(
    [
      { title: "round", numeric: true },
      { title: "conc.", numeric: true },
      ...selected.map((system) => ({ title: `${system.name} /s`, numeric: true }))
    ],
    Array.from({ length: settings.rounds }, (_, round) =>
      settings.concurrencies.map((concurrency) => [
        String(round + 1),
        String(concurrency),
        ...selected.map((system) => {
          const found = batches.find((b) => b.round === round && b.system === system.name && b.concurrency === concurrency)
          return found === undefined ? "-" : whole(found.perSecond)
        })
      ])).flat()
  )

const diagnosisTable = (diagnoses: ReadonlyArray<Diagnosis>): string =>
  table(
    [
      { title: "system" },
      { title: "round trips/dep.", numeric: true },
      { title: "commits/dep.", numeric: true },
      { title: "open+close: round trips", numeric: true },
      { title: "open+close: commits", numeric: true }
    ],
    diagnoses.map((d) => [
      selected.find((s) => s.name === d.system)?.label ?? d.system,
      fixed(d.roundTripsPerDeployment, 2),
      fixed(d.commitsPerDeployment, 2),
      whole(d.openRoundTrips),
      whole(d.openCommits)
    ])
  )

/** Ratio of the medians of two systems at a concurrency, and the range of the per-round ratios. */
const ratio = (batches: ReadonlyArray<Batch>, over: System["name"], under: System["name"], concurrency: number) => {
  const top = byKey(batches, over, concurrency)
  const bottom = byKey(batches, under, concurrency)
  if (top.length === 0 || bottom.length === 0) return undefined
  const perRound = top.flatMap((t) => {
    const b = bottom.find((x) => x.round === t.round)
    return b === undefined ? [] : [t.perSecond / b.perSecond]
  })
  return {
    value: medianOf(top, (b) => b.perSecond) / medianOf(bottom, (b) => b.perSecond),
    low: Math.min(...perRound),
    high: Math.max(...perRound)
  }
}

const targetsTable = (batches: ReadonlyArray<Batch>): string => {
  const rows: Array<Array<string>> = []
  const commits = byKey(batches, "actions", settings.concurrencies[0] ?? 1)
  const allActions = batches.filter((b) => b.system === "actions")
  if (allActions.length > 0) {
    const worst = Math.max(...allActions.map((b) => b.commitsPerDeployment))
    rows.push([
      `commits per 5-job deployment <= ${stepCount + 1}`,
      `${fixed(medianOf(commits, (b) => b.commitsPerDeployment), 2)} (worst batch ${fixed(worst, 2)})`,
      "",
      worst <= stepCount + 1 + 0.05 ? "met" : "MISSED"
    ])
  }
  const check = (label: string, over: System["name"], under: System["name"], concurrency: number, goal?: number) => {
    const r = ratio(batches, over, under, concurrency)
    if (r === undefined) return
    const verdict = goal === undefined ? "-" : r.value >= goal ? "met" : "MISSED"
    rows.push([label, fixed(r.value, 2), `${fixed(r.low, 2)}–${fixed(r.high, 2)}`, verdict])
  }
  check("concurrency 1: actions / floor >= 0.8", "actions", "floor", 1, 0.8)
  check("concurrency 16: actions / floor >= 1.0", "actions", "floor", 16, 1)
  check("concurrency 64: actions / floor >= 1.2", "actions", "floor", 64, 1.2)
  /** A cost of actions against the floor's, as a ratio of medians (lower is better). */
  const cost = (label: string, pick: (b: Batch) => number, concurrency: number, limit: number) => {
    const actions = byKey(batches, "actions", concurrency)
    const floor = byKey(batches, "floor", concurrency)
    if (actions.length === 0 || floor.length === 0) return
    const value = medianOf(actions, pick) / medianOf(floor, pick)
    rows.push([label, `${fixed(value, 2)} x the floor's`, "", value <= limit ? "met" : "MISSED"])
  }
  for (const concurrency of settings.concurrencies) {
    cost(`concurrency ${concurrency}: WAL per deployment <= 1.2 x floor`, (b) => b.walPerDeployment, concurrency, 1.2)
  }
  cost("concurrency 64: PostgreSQL CPU per deployment <= floor", (b) => b.pgMsPerDeployment, 64, 1)
  check("concurrency 64: actions / workflow (no target)", "actions", "workflow", 64)
  check("concurrency 16: actions / workflow (no target)", "actions", "workflow", 16)
  check("concurrency 1: actions / workflow (no target)", "actions", "workflow", 1)
  return table(
    [{ title: "target" }, { title: "measured (ratio of medians)" }, { title: "per-round range" }, { title: "verdict" }],
    rows
  )
}

const describeServer = (info: ServerInfo): string =>
  `server:  PostgreSQL ${info.version}, fsync=${info.fsync}, synchronous_commit=${info.synchronousCommit}, ` +
  `shared_buffers=${info.sharedBuffers}, max_connections=${info.maxConnections}`

const loadAverage = (): string => {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim()
  } catch {
    return "unknown"
  }
}

// ---------------------------------------------------------------------------------------------------------------
// main

const program = Effect.gen(function*() {
  const info = yield* serverInfo
  const database = yield* benchDatabase
  console.log(describeMachine(machine()))
  console.log(describeServer(info))
  console.log(
    `run:     database ${database}; pool: PgClient.layer maxConnections=${settings.pool} (no multiplex, prepare on); ` +
      `${settings.deployments} timed deployments per batch (workflow at concurrency 1: ${settings.workflowSerial}); ` +
      `warm-up max(32, 2 x concurrency); ${settings.rounds} rounds; value ${JSON.stringify(valueFor("floor-00000000")).length} bytes of JSON`
  )
  console.log(`load:    ${loadAverage()} (before)`)

  const migrationPool = poolLayer({ url: urlOf(database), maxConnections: 4 })
  for (const system of selected) yield* system.migrate(migrationPool)

  const diagnoses: Array<Diagnosis> = []
  for (const system of selected) {
    const diagnosis = yield* diagnose(database, system)
    diagnoses.push(diagnosis)
    console.error(
      `diagnosis ${system.name}: ${fixed(diagnosis.roundTripsPerDeployment, 2)} round trips, ` +
        `${fixed(diagnosis.commitsPerDeployment, 2)} commits per deployment; open+close ${diagnosis.openCommits} commits`
    )
  }
  const baselines = new Map(diagnoses.map((d) => [d.system, d.openCommits]))

  const batches: Array<Batch> = []
  for (let round = 0; round < settings.rounds; round++) {
    for (const concurrency of settings.concurrencies) {
      for (const system of selected) {
        const result = yield* batch(database, system, concurrency, round, baselines.get(system.name) ?? 0)
        batches.push(result)
        console.error(
          `round ${round + 1}/${settings.rounds} c=${concurrency} ${system.name.padEnd(8)} ` +
            `${whole(result.perSecond).padStart(6)}/s  p50 ${fixed(result.stepP50, 2)} ms  p99 ${fixed(result.stepP99, 2)} ms  ` +
            `${fixed(result.commitsPerDeployment, 2)} commits/dep.  node ${fixed(result.nodeMsPerDeployment, 2)} ` +
            `pg ${fixed(result.pgMsPerDeployment, 2)} ms/dep.  busy ${fixed(result.busyCores, 2)}  load ${loadAverage()}`
        )
      }
    }
  }

  console.log(`load:    ${loadAverage()} (after)\n`)
  console.log(`Medians over ${settings.rounds} interleaved rounds:\n`)
  console.log(resultTable(batches))
  console.log(`\nDeployments/s per round:\n`)
  console.log(roundsTable(batches))
  console.log(`\nRound trips and commits per deployment (diagnostic pass, ${diagnosisDeployments} deployments at concurrency 16):\n`)
  console.log(diagnosisTable(diagnoses))
  console.log(`\nTargets:\n`)
  console.log(targetsTable(batches))
  if (settings.json !== undefined) {
    writeFileSync(settings.json, JSON.stringify({ machine: machine(), server: info, settings, diagnoses, batches }, null, 2))
  }
})

const main = program.pipe(
  Effect.scoped,
  Effect.provide(adminLayer),
  // The engines log at Info (workflow registration, shard assignments); the bench prints its own account.
  Effect.provideService(References.MinimumLogLevel, "Warn")
)

const fiber = Effect.runFork(main)
// Ctrl-C or a kill interrupts the run, so that its finalizers still drop the bench database.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => Effect.runFork(Fiber.interrupt(fiber)))
}
fiber.addObserver((exit) => {
  if (Exit.isFailure(exit)) {
    console.error(Cause.pretty(exit.cause))
    process.exitCode = 1
  }
})
