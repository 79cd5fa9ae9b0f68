/**
 * The checks of the kill test, on what the database holds once every deployment settled: the deployments, their
 * job records, and the side effects their jobs recorded (in the order they happened).
 *
 * On top of `checkInvariants` (test/support/invariants.ts: terminal, every side effect of a succeeded deployment
 * present, none left by a rolled back one, epochs monotonic, jobs in order, no job after the rollback began):
 * - no deployment lost or duplicated: exactly one per planned key, and none other;
 * - each ends as planned (succeeded, or rolled back when a job fails by design), with its lease released;
 * - one process per lease epoch: no two processes wrote under the same epoch of a deployment;
 * - a rolled back deployment ran no job after the failing one, and rolled back every job that started (the failing
 *   one included), in reverse order across kills (the rollbacks' sequence of jobs never goes up);
 * - a succeeded deployment rolled nothing back;
 * - the job records agree with the side effects (`succeeded`, `rolled_back`, `pending` where expected);
 * - the error logs hold the designed failures only.
 */
import { checkInvariants } from "./invariants.ts"
import { JOBS, type PlannedDeployment } from "./killPlan.ts"

export interface DeploymentRow {
  readonly id: string
  readonly key: string | null
  readonly status: string
  readonly leaseEpoch: number
  readonly owner: string | null
}

export interface JobRunRow {
  readonly deploymentId: string
  readonly index: number
  readonly status: string
  readonly attempts: number
}

/** An entry of a deployment's error log. */
export interface ErrorRow {
  readonly deploymentId: string
  readonly tag: string
  readonly phase: string
  readonly message: string
}

export interface EffectRow {
  readonly deploymentId: string
  readonly job: number
  readonly kind: "do" | "undo"
  readonly epoch: number
  readonly owner: string
  readonly attempt: number
  /** `false`: the write was refused because its process no longer held the lease (it did not happen). */
  readonly applied: boolean
}

export interface RunCounts {
  readonly deployments: number
  readonly succeeded: number
  readonly rolledBack: number
  /** Deployments whose lease was claimed at least once after it was created (epoch > 1). */
  readonly resumed: number
  readonly maxEpoch: number
  /** Job executions that ran again after a kill (a job with more than one `do`: at least once). */
  readonly jobsRunAgain: number
  /** Rollbacks that ran again after a kill (a job with more than one `undo`). */
  readonly rollbacksRunAgain: number
  /** Side-effect writes refused because their process had lost the lease (0 unless a live process lost one). */
  readonly refusedWrites: number
  readonly sideEffects: number
}

export interface RunReport {
  readonly violations: Array<string>
  readonly counts: RunCounts
}

export const checkRun = (
  plan: ReadonlyArray<PlannedDeployment>,
  deployments: ReadonlyArray<DeploymentRow>,
  jobRuns: ReadonlyArray<JobRunRow>,
  effects: ReadonlyArray<EffectRow>,
  errors: ReadonlyArray<ErrorRow>
): RunReport => {
  const violations: Array<string> = []
  // The jobs fail by design only; anything else in an error log (corrupt data, a failed rollback) is a finding.
  for (const error of errors) {
    if (error.tag !== "DesignedFailure") {
      violations.push(`${error.deploymentId}: error log entry ${error.tag} (${error.phase}): ${error.message}`)
    }
  }
  const byKey = new Map<string, Array<DeploymentRow>>()
  for (const deployment of deployments) {
    if (deployment.key === null) {
      violations.push(`${deployment.id}: a deployment without a key (none was planned)`)
      continue
    }
    byKey.set(deployment.key, [...(byKey.get(deployment.key) ?? []), deployment])
  }
  const planned = new Map(plan.map((p) => [p.key, p]))
  for (const key of byKey.keys()) if (!planned.has(key)) violations.push(`key ${key}: a deployment that was not planned`)

  const effectsOf = new Map<string, Array<EffectRow>>()
  for (const effect of effects) {
    effectsOf.set(effect.deploymentId, [...(effectsOf.get(effect.deploymentId) ?? []), effect])
  }
  const runsOf = new Map<string, Map<number, JobRunRow>>()
  for (const run of jobRuns) {
    const runs = runsOf.get(run.deploymentId) ?? new Map<number, JobRunRow>()
    runs.set(run.index, run)
    runsOf.set(run.deploymentId, runs)
  }

  let jobsRunAgain = 0
  let rollbacksRunAgain = 0
  for (const p of plan) {
    const found = byKey.get(p.key) ?? []
    if (found.length !== 1) {
      violations.push(`key ${p.key}: ${found.length} deployments (exactly one expected)`)
      continue
    }
    const deployment = found[0]!
    const problem = (text: string) => violations.push(`${deployment.id} (key ${p.key}, ${deployment.status}): ${text}`)
    const expected = p.failAt < 0 ? "succeeded" : "rolled_back"
    if (deployment.status !== expected) problem(`ended ${deployment.status}, planned to end ${expected}`)
    if (deployment.owner !== null) problem(`still leased by ${deployment.owner} after it ended`)

    const own = effectsOf.get(deployment.id) ?? []
    // One process per epoch, refused writes included: two owners under one epoch would be two lease holders.
    const ownerOfEpoch = new Map<number, string>()
    for (const effect of own) {
      const owner = ownerOfEpoch.get(effect.epoch)
      if (owner === undefined) ownerOfEpoch.set(effect.epoch, effect.owner)
      else if (owner !== effect.owner) problem(`epoch ${effect.epoch} used by two processes: ${owner} and ${effect.owner}`)
    }
    const applied = own.filter((effect) => effect.applied)
    const does = new Map<number, number>()
    const undoes = new Map<number, number>()
    for (const effect of applied) {
      const counts = effect.kind === "do" ? does : undoes
      counts.set(effect.job, (counts.get(effect.job) ?? 0) + 1)
    }
    for (const count of does.values()) if (count > 1) jobsRunAgain++
    for (const count of undoes.values()) if (count > 1) rollbacksRunAgain++

    const runs = runsOf.get(deployment.id) ?? new Map<number, JobRunRow>()
    if (runs.size !== JOBS) problem(`${runs.size} job records (${JOBS} expected)`)
    if (expected === "succeeded") {
      if (undoes.size > 0) problem(`succeeded but rolled back jobs ${[...undoes.keys()].join(", ")}`)
      for (const [index, run] of runs) {
        if (run.status !== "succeeded") problem(`job ${index} recorded ${run.status} in a succeeded deployment`)
      }
    } else {
      for (const job of does.keys()) {
        if (job > p.failAt || (job === p.failAt && !p.partial)) problem(`job ${job} did its work although job ${p.failAt} fails`)
      }
      for (let job = 0; job <= p.failAt; job++) {
        if (!undoes.has(job)) problem(`job ${job} started but its rollback never ran`)
      }
      let last = Number.POSITIVE_INFINITY
      for (const effect of applied) {
        if (effect.kind !== "undo") continue
        if (effect.job > last) problem(`rollback of job ${effect.job} ran after the rollback of job ${last}`)
        last = effect.job
      }
      for (const [index, run] of runs) {
        const status = index <= p.failAt ? "rolled_back" : "pending"
        if (run.status !== status) problem(`job ${index} recorded ${run.status}, ${status} expected`)
      }
    }
  }

  const settled = deployments.filter((d) => d.key !== null && planned.has(d.key))
  violations.push(
    ...checkInvariants(
      settled.map((d) => ({ id: d.id, status: d.status, jobs: JOBS })),
      effects.filter((effect) => effect.applied).map((effect) => ({
        deploymentId: effect.deploymentId,
        job: effect.job,
        kind: effect.kind,
        epoch: effect.epoch
      }))
    )
  )

  return {
    violations,
    counts: {
      deployments: deployments.length,
      succeeded: deployments.filter((d) => d.status === "succeeded").length,
      rolledBack: deployments.filter((d) => d.status === "rolled_back").length,
      resumed: deployments.filter((d) => d.leaseEpoch > 1).length,
      maxEpoch: Math.max(0, ...deployments.map((d) => d.leaseEpoch)),
      jobsRunAgain,
      rollbacksRunAgain,
      refusedWrites: effects.filter((effect) => !effect.applied).length,
      sideEffects: effects.filter((effect) => effect.applied).length
    }
  }
}
