/**
 * The invariants a crash test checks once every deployment has settled, from the deployments' final records and
 * the side effects their jobs recorded (in the order they happened).
 */

/**
 * One side effect: a job did (`do`) or undid (`undo`) its work, under a lease epoch. Tests that can observe it also
 * record when a job execution starts and ends (`start`, `end`, interruption included), so that two owners running
 * one deployment at the same time are caught even when their side effects happen to come in order.
 */
export interface SideEffect {
  readonly deploymentId: string
  readonly job: number
  readonly kind: "do" | "undo" | "start" | "end"
  readonly epoch: number
}

/** What the checker needs of a deployment's final record. */
export interface FinalRecord {
  readonly id: string
  readonly status: string
  readonly jobs: number
}

/** Returns the violated invariants, one line each; empty when all hold. */
export const checkInvariants = (
  deployments: ReadonlyArray<FinalRecord>,
  effects: ReadonlyArray<SideEffect>
): Array<string> => {
  const violations: Array<string> = []
  const byDeployment = new Map<string, Array<SideEffect>>()
  for (const effect of effects) {
    const list = byDeployment.get(effect.deploymentId) ?? []
    list.push(effect)
    byDeployment.set(effect.deploymentId, list)
  }
  for (const deployment of deployments) {
    const own = byDeployment.get(deployment.id) ?? []
    const problem = (text: string) => violations.push(`${deployment.id} (${deployment.status}): ${text}`)
    if (deployment.status !== "succeeded" && deployment.status !== "rolled_back") {
      problem("did not settle as succeeded or rolled_back")
      continue
    }
    // Net state of each job's resource after every do and undo, in order.
    const held = new Set<number>()
    let highestDone = -1
    let undoing = false
    let epoch = 0
    const open = new Map<number, number>()
    for (const effect of own) {
      if (effect.kind === "start") {
        for (const [other, count] of open) {
          if (other !== effect.epoch && count > 0) problem(`epochs ${other} and ${effect.epoch} ran jobs at the same time`)
        }
        open.set(effect.epoch, (open.get(effect.epoch) ?? 0) + 1)
        continue
      }
      if (effect.kind === "end") {
        open.set(effect.epoch, (open.get(effect.epoch) ?? 1) - 1)
        continue
      }
      if (effect.epoch < epoch) problem(`epoch went back from ${epoch} to ${effect.epoch}: two owners at once`)
      epoch = Math.max(epoch, effect.epoch)
      if (effect.kind === "do") {
        if (undoing) problem(`job ${effect.job} ran after the rollback began`)
        if (effect.job < highestDone) problem(`job ${effect.job} ran after job ${highestDone} had started`)
        highestDone = Math.max(highestDone, effect.job)
        held.add(effect.job)
      } else {
        undoing = true
        held.delete(effect.job)
      }
    }
    if (deployment.status === "succeeded") {
      for (let job = 0; job < deployment.jobs; job++) {
        if (!held.has(job)) problem(`succeeded without the side effect of job ${job}`)
      }
    } else if (held.size > 0) {
      problem(`rolled back but left the side effects of jobs ${[...held].join(", ")} undone`)
    }
  }
  return violations
}

/** A small seeded generator (mulberry32), so that a failing run can be replayed with its seed. */
export const seededRandom = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
