/**
 * What the kill test (test/kill.test.ts) and its worker processes (test/support/killWorker.ts) agree on: the worker's
 * configuration, the deployments to run (made from the seed, so a run can be replayed), the side-effect table, and
 * the markers a worker prints on stdout.
 */
import { seededRandom } from "./invariants.ts"

/** Jobs in the action the workers run. */
export const JOBS = 5

/** The action's name (one action, application `default`). */
export const ACTION = "kill-test"

/** A line a worker prints once its runtime runs (action registered, recovery loop started). */
export const READY = "KILLWORKER READY"

/** One deployment of the plan: its key, and how it is meant to end. */
export interface PlannedDeployment {
  readonly seq: number
  readonly key: string
  /** The job that fails by design, or -1: the deployment must succeed. */
  readonly failAt: number
  /** The failing job records its side effect before failing: its rollback (output `None`) must undo it. */
  readonly partial: boolean
  /**
   * When the worker of its slot submits it: once the test has made this many kills. Deployments arrive with the
   * kills, so that every kill finds deployments in flight, whatever the speed of the machine.
   */
  readonly dueAtKill: number
}

/**
 * The deployments of one run: `count` of them, about a third failing by design at a random job, spread over the
 * first 90% of `kills` kills.
 */
export const makePlan = (seed: number, count: number, kills: number): Array<PlannedDeployment> => {
  const random = seededRandom(seed)
  return Array.from({ length: count }, (_, seq) => {
    const fails = random() < 0.35
    const failAt = fails ? Math.floor(random() * JOBS) : -1
    const dueAtKill = Math.floor((seq * Math.floor(kills * 0.9)) / count)
    return { seq, key: `k${seq}`, failAt, partial: fails && random() < 0.5, dueAtKill }
  })
}

/** The configuration of one worker process, passed as JSON in its first argument. */
export interface WorkerConfig {
  readonly databaseUrl: string
  /** Table prefix of the store; the side effects are in `${prefix}side_effects`. */
  readonly prefix: string
  /** This process's lease owner id: new for every process. */
  readonly owner: string
  /** PostgreSQL `application_name` of the process's connections (so that the test can cut them). */
  readonly applicationName: string
  readonly seed: number
  /** Kills made so far (later ones come on stdin, as `kills <n>` lines). */
  readonly kills: number
  /** The deployments this process submits (its slot's share of the plan). */
  readonly submit: ReadonlyArray<PlannedDeployment>
  readonly leaseTtlMillis: number
  readonly heartbeatMillis: number
  readonly pollMillis: number
  readonly batch: number
}

/**
 * The side-effect table: what the jobs did (`do`) and undid (`undo`), in the order it happened (`seq`), each row
 * with the lease epoch (`JobContext.fencingToken`) and owner of the process that wrote it, and whether that process
 * still held the deployment's lease when it wrote (`applied`). A row with `applied = false` is a write that the
 * side-effect system refused because a newer lease holder exists (the fencing the docs ask jobs to use); it
 * records the attempt only.
 */
export const sideEffectsTable = (prefix: string): string => `${prefix}side_effects`

/** A number in [0, 1) that depends only on its arguments: the workers' timing choices replay with the seed. */
export const choice = (...parts: ReadonlyArray<number>): number => {
  let hash = 0x811c9dc5
  for (const part of parts) {
    hash = Math.imul(hash ^ (part | 0), 0x01000193) >>> 0
    hash = Math.imul(hash ^ (hash >>> 13), 0x5bd1e995) >>> 0
  }
  return seededRandom(hash)()
}
