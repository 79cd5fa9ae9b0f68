/**
 * What `bench/recovery.ts` measures, as records, and how it prints them: the crash state, the heartbeat and
 * in-flight costs, one row per recovery run; and the checks a complete run must pass.
 */
import { median } from "./measure.ts"
import { jobCount, type StoreEvent } from "./recoveryAction.ts"
import type { CrashState, RecoveredState } from "./recoveryDatabase.ts"
import type { Explained } from "./recoveryHeartbeat.ts"
import { type Column, fixed, table, whole } from "./report.ts"

/** A heartbeat call a child reported. */
export type HeartbeatEvent = Extract<StoreEvent, { type: "heartbeat" }>

/** What the producer reported before it was killed. */
export interface Production {
  readonly millis: number
  readonly heapPerDeployment: number
  readonly rssMiB: number
}

/** The heartbeat and claim figures with one owner holding every deployment. */
export interface HeartbeatCost {
  readonly ids: number
  /** The store's heartbeat, owner known to the planner's statistics: client ms of each call, and explained. */
  readonly knownClient: ReadonlyArray<number>
  readonly knownExplained: ReadonlyArray<Explained>
  /** The same, owner unknown to the statistics. */
  readonly freshClient: ReadonlyArray<number>
  readonly freshExplained: ReadonlyArray<Explained>
  /** The store's former statement (`IN`), owner unknown to the statistics: analyzed, or only planned. */
  readonly former: Explained
  /** Claim passes that find nothing (every lease live), batch `idleClaimBatch`. */
  readonly idleClaimBatch: number
  readonly idleClaimMillis: ReadonlyArray<number>
  /** Claims alone (no process running), every lease expired: ms per pass, by batch size. */
  readonly claimMillis: ReadonlyArray<{ readonly batch: number; readonly millis: ReadonlyArray<number> }>
  readonly roundTripMillis: number
}

/** One recovery run: how many processes, and the recovery settings that differ from the library's. */
export interface RunConfig {
  readonly label: string
  readonly processes: number
  /** `undefined` (here and below): the library's default. */
  readonly batch: number | undefined
  readonly pollMillis: number | undefined
  readonly leaseTtlMillis: number | undefined
  readonly maxConnections: number | undefined
}

/** What one recovery run measured. */
export interface RunResult {
  readonly config: RunConfig
  readonly round: number
  readonly load: string
  readonly recovered: number
  readonly wallMillis: number
  /** The wall time, projected to every deployment when the run was cut. */
  readonly projectedMillis: number
  readonly firstClaimMillis: number
  readonly claimedAllMillis: number
  readonly claimed: number
  readonly claimPasses: number
  readonly emptyPasses: number
  readonly claimMillisMedian: number
  readonly claimMillisMax: number
  readonly maxInFlight: ReadonlyArray<number>
  readonly finishedPerProcess: ReadonlyArray<number>
  readonly jobsExecuted: number
  readonly commitsPerDeployment: number
  readonly nodeCpuMillis: number
  readonly pgCpuMillis: number
  readonly busyCores: number
  readonly halfMillis: number
  readonly state: RecoveredState
  /** The recovery processes' own heartbeats during the run. */
  readonly heartbeats: ReadonlyArray<HeartbeatEvent>
  /** Local runs the recovery processes stopped as `lease_lost` (their warnings). */
  readonly leaseLost: number
  /** Deployments not succeeded yet, every 5 s from GO. */
  readonly progress: ReadonlyArray<number>
}

/** The crash state, and how long the crashed process took to get every deployment in flight. */
export const crashTable = (state: CrashState, production: Production): string =>
  table(
    [
      { title: "deployments", numeric: true },
      ...state.byJob.map((_, job) => ({ title: `at job ${job + 1}`, numeric: true })),
      { title: "held by dead owner", numeric: true },
      { title: "rows as a crash leaves them" },
      { title: "produced in s", numeric: true }
    ],
    [[
      whole(state.deployments),
      ...state.byJob.map(whole),
      whole(state.heldByDead),
      state.inconsistentJobs === 0 && state.offPlan === 0 && state.jobRows === state.deployments * jobCount
        ? `yes (${whole(state.jobRows)} job rows checked)`
        : `NO: ${state.inconsistentJobs} job rows off, ${state.offPlan} deployments off plan`,
      fixed(production.millis / 1000, 1)
    ]]
  )

/** Samples as `median (min-max)`; one sample as itself; none as `-`. */
const range = (samples: ReadonlyArray<number>, decimals = 1): string =>
  samples.length === 0
    ? "-"
    : samples.length === 1
    ? fixed(samples[0]!, decimals)
    : `${fixed(median(samples), decimals)} (${fixed(Math.min(...samples), decimals)}-${fixed(Math.max(...samples), decimals)})`

/** The heartbeat statement with every lease of one owner, in its forms. */
export const heartbeatTable = (cost: HeartbeatCost): string => {
  const mid = (explained: ReadonlyArray<Explained>, pick: (e: Explained) => number) => median(explained.map(pick))
  const analyzed = (explained: ReadonlyArray<Explained>) => explained.filter((e) => e.executionMillis > 0)
  const row = (label: string, client: ReadonlyArray<number>, all: ReadonlyArray<Explained>) => {
    const explained = analyzed(all)
    return [
      label,
      range(client),
      explained.length === 0 ? "-" : range(explained.map((e) => e.executionMillis)),
      explained.length === 0 ? "-" : whole(mid(explained, (e) => e.walBytes)),
      explained.length === 0 ? "-" : whole(mid(explained, (e) => e.sharedHit + e.sharedRead)),
      all[0]?.shape ?? "?"
    ]
  }
  return table(
    [
      { title: `renewing ${whole(cost.ids)} leases in one statement` },
      { title: "client ms", numeric: true },
      { title: "EXPLAIN ANALYZE ms", numeric: true },
      { title: "WAL bytes", numeric: true },
      { title: "buffers", numeric: true },
      { title: "plan" }
    ],
    [
      row("store's heartbeat, owner in the statistics", cost.knownClient, cost.knownExplained),
      row("store's heartbeat, owner not in the statistics", cost.freshClient, cost.freshExplained),
      row("former statement (IN, before d4d3c64), owner not in the statistics", [], [cost.former])
    ]
  )
}

/** What holding deployments in flight costs besides the heartbeat. */
export const inFlightTable = (cost: HeartbeatCost, production: Production): string =>
  table(
    [{ title: "in-flight cost" }, { title: "value", numeric: true }],
    [
      ["heartbeat statements per process per second (defaults: lease 30 s, heartbeat 10 s)", "0.1"],
      [
        "server ms per second per process at that rate (owner in the statistics)",
        fixed(median(cost.knownExplained.map((e) => e.executionMillis)) / 10, 1)
      ],
      [`idle claim pass (batch ${cost.idleClaimBatch}) while every lease is live, ms`, range(cost.idleClaimMillis)],
      ...cost.claimMillis.map((c) => [
        `claim pass alone, every lease expired, batch ${c.batch}: ms (deployments/s of claim time)`,
        `${range(c.millis)} (${whole(c.batch / (median(c.millis) / 1000))}/s)`
      ]),
      ["round trip (SELECT 1), ms", fixed(cost.roundTripMillis, 2)],
      ["heap per in-flight deployment, KiB (settled heap of the crashed process)", fixed(production.heapPerDeployment / 1024, 1)],
      ["RSS of the crashed process with every deployment in flight, MiB", fixed(production.rssMiB, 0)]
    ]
  )

/** The columns of the recovery table (described in `bench/recovery.ts`). */
export const recoveryColumns: ReadonlyArray<Column> = [
  { title: "run" },
  { title: "round", numeric: true },
  { title: "wall s", numeric: true },
  { title: "resumed/s", numeric: true },
  { title: "half s", numeric: true },
  { title: "first claim s", numeric: true },
  { title: "claimed all s", numeric: true },
  { title: "claims/s", numeric: true },
  { title: "passes", numeric: true },
  { title: "claim ms p50/max", numeric: true },
  { title: "in flight", numeric: true },
  { title: "finished per process", numeric: true },
  { title: "commits/dep.", numeric: true },
  { title: "node s", numeric: true },
  { title: "pg s", numeric: true },
  { title: "busy", numeric: true },
  { title: "others s", numeric: true },
  { title: "heartbeat max ms", numeric: true },
  { title: "lease lost", numeric: true },
  { title: "epoch 2", numeric: true }
]

/** One run as a row of the recovery table; a run that did not recover all `total` shows its projection. */
export const recoveryRow = (r: RunResult, total: number): Array<string> => {
  const cut = r.recovered < total
  return [
    r.config.label,
    String(r.round + 1),
    cut
      ? `${fixed(r.projectedMillis / 1000, 0)} (proj.; ${whole(r.recovered)} in ${fixed(r.wallMillis / 1000, 0)})`
      : fixed(r.wallMillis / 1000, 1),
    whole(r.recovered / (r.wallMillis / 1000)),
    cut ? "-" : fixed(r.halfMillis / 1000, 1),
    fixed(r.firstClaimMillis / 1000, 2),
    fixed(r.claimedAllMillis / 1000, 1),
    whole(r.claimed / (r.claimedAllMillis / 1000)),
    String(r.claimPasses),
    `${fixed(r.claimMillisMedian)}/${fixed(r.claimMillisMax)}`,
    r.maxInFlight.map(whole).join("+"),
    r.finishedPerProcess.map(whole).join("+"),
    fixed(r.commitsPerDeployment, 2),
    fixed(r.nodeCpuMillis / 1000, 1),
    fixed(r.pgCpuMillis / 1000, 1),
    fixed(r.busyCores, 2),
    fixed(Math.max(0, (r.busyCores * r.wallMillis) / 1000 - (r.nodeCpuMillis + r.pgCpuMillis) / 1000), 1),
    r.heartbeats.length === 0 ? "-" : whole(Math.max(...r.heartbeats.map((h) => h.millis))),
    whole(r.leaseLost),
    cut ? "-" : `${whole(r.state.epochTwo)}/${whole(r.state.succeeded)}`
  ]
}

/** The problems of a complete run: deployments not recovered, claimed more than once, or jobs run more often. */
export const checkRun = (r: RunResult, total: number, expectedJobs: number): ReadonlyArray<string> => {
  if (r.recovered < total) return []
  const problems: Array<string> = []
  const n = total
  if (r.state.succeeded !== n) problems.push(`${n - r.state.succeeded} deployments did not succeed`)
  if (r.state.epochTwo !== n || r.state.maxEpoch !== 2) problems.push(`claimed more than once (max epoch ${r.state.maxEpoch})`)
  if (r.state.sixAttempts !== n || r.state.maxAttempts !== 2) problems.push(`some job ran more than twice in all`)
  if (r.claimed !== n) problems.push(`${r.claimed} claims for ${n} deployments`)
  if (r.jobsExecuted !== expectedJobs) problems.push(`${r.jobsExecuted} jobs executed, ${expectedJobs} expected`)
  return problems.map((p) => `${r.config.label}, round ${r.round + 1}: ${p}`)
}

