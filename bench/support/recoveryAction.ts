/**
 * The workload of `bench/recovery.ts`: a 5-job action whose deployments carry a ~100-byte JSON value and the index
 * of the job at which their first process "crashes", plus what the bench's processes share (message prefixes,
 * configuration shapes, the table prefix).
 *
 * The same definition runs in every process, so the fingerprint (the job names, in order) is the same and the
 * recovery processes may resume what the crashed process left. Only the job body differs: the producer blocks
 * forever in job `crashAt`; recovery processes run every job as a no-op.
 */
import { Effect, Schema } from "effect"
import { Action, Job } from "../../src/index.ts"
import { seededRandom } from "../../test/support/invariants.ts"

/** Jobs per deployment. */
export const jobCount = 5

/** Table prefix of the store in the bench databases. */
export const tablePrefix = "effect_actions_"

/** What a deployment carries from job to job (about 100 bytes of JSON). */
export const Work = Schema.Struct({
  seq: Schema.Int,
  crashAt: Schema.Int,
  app: Schema.String,
  region: Schema.String,
  image: Schema.String
})
export type Work = typeof Work.Type

// The seeded generator of the crash tests (mulberry32), so that every run crashes at the same jobs.
export { seededRandom }

/** The inputs of `count` deployments, each with a crash job drawn uniformly from 0 to 4. */
export const plannedWork = (count: number, seed: number): ReadonlyArray<Work> => {
  const random = seededRandom(seed)
  return Array.from({ length: count }, (_, seq) => ({
    seq,
    crashAt: Math.floor(random() * jobCount),
    app: `shop-${seq.toString().padStart(6, "0")}`,
    region: "eu-west-1",
    image: "registry.example.test/shop:1.4.2"
  }))
}

/** What a job does besides passing its input on: block (producer) or nothing (recovery processes). */
export type JobBody = (job: number, work: Work) => Effect.Effect<void>

const job = (index: number, body: JobBody) =>
  Job.make(`job-${index + 1}`, {
    input: Work,
    output: Work,
    execute: (work) => Effect.as(body(index, work), work)
  })

/** The 5-job action, every job running `body` before returning its input. */
export const recoveryAction = (body: JobBody) =>
  Action.make("recovery-5", [job(0, body), job(1, body), job(2, body), job(3, body), job(4, body)])

/** The action's fingerprint (the same for every body). */
export const fingerprint: string = recoveryAction(() => Effect.void).fingerprint

// ---------------------------------------------------------------------------------------------------------------
// what the processes print and receive (one message per line)

/** Prefix of every line a child prints for the parent; the rest of the line is JSON. */
export const messagePrefix = "RECOVERY-BENCH "

/** A timed call of the store, printed by a child as it happens. Times are epoch milliseconds (fractional). */
export type StoreEvent =
  | { readonly type: "claim"; readonly at: number; readonly millis: number; readonly claimed: number }
  | { readonly type: "heartbeat"; readonly at: number; readonly millis: number; readonly ids: number; readonly held: number }

/** Every message a child prints. */
export type ChildMessage =
  | StoreEvent
  | { readonly type: "ready"; readonly pid: number }
  | {
    readonly type: "produced"
    readonly count: number
    readonly millis: number
    readonly heapBefore: number
    readonly heapInFlight: number
    readonly rssInFlight: number
  }
  | {
    readonly type: "done"
    /** Jobs this process executed. */
    readonly jobs: number
    /** Deployments whose last job this process executed. */
    readonly finished: number
    /** Most deployments claimed and not yet at their last job at one time. */
    readonly maxInFlight: number
  }

/** Wall-clock time as epoch milliseconds, with sub-millisecond resolution, comparable across processes. */
export const epochMillis = (): number => performance.timeOrigin + performance.now()

/** Prints a message for the parent. */
export const tell = (message: ChildMessage): void => void process.stdout.write(`${messagePrefix}${JSON.stringify(message)}\n`)

/** Configuration of the producer (the process that crashes). */
export interface ProducerConfig {
  readonly url: string
  readonly owner: string
  readonly count: number
  readonly seed: number
  /** How many `start` calls run at once. */
  readonly startConcurrency: number
  readonly leaseTtlMillis: number
  readonly heartbeatMillis: number
}

/** Configuration of a recovery process; a setting left out takes the library's default. */
export interface WorkerConfig {
  readonly url: string
  readonly owner: string
  readonly leaseTtlMillis?: number | undefined
  readonly pollMillis?: number | undefined
  readonly batch?: number | undefined
  /** Connections of the process's pool (`PgClient` default: 10). */
  readonly maxConnections?: number | undefined
}
