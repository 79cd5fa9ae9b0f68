/**
 * The service every job function (pre-hook, execute, post-hook) and every rollback can use: which deployment and
 * job it runs for, which attempt this is, a stable idempotency key, job data, and the deployment's error log.
 *
 * It replaces the seed's `SetJobData`, `GetJobData` and `GetErrors`, with schemas instead of reflection.
 *
 * **Details**
 *
 * Job data is keyed by `(deployment, job, key)`: `setData` writes (inserts or replaces) an entry of the current
 * job, `getData` reads an entry of the current job or, with `{ job }`, of another job of the same deployment.
 * Values are encoded with the schema given, persisted at once, and survive a crash: a rollback that runs in
 * another process reads what `execute` saved.
 *
 * When the store cannot be written (it is unreachable, or this process lost the deployment's lease), these
 * operations do not fail in the job's error channel: the runtime stops the local run of the deployment without
 * rolling it back, and the deployment resumes from its last checkpoint (see `docs/durability.md`).
 *
 * @since 0.1.0
 */
import { Context, type Effect, type Option, type Schema } from "effect"
import type { InvalidJobData, StoredDataCorrupt } from "./ActionError.ts"
import type { ErrorEntry, JobPhase } from "./Deployment.ts"

/**
 * What a job function sees of its deployment.
 *
 * @since 0.1.0
 * @category models
 */
export interface JobContextShape {
  readonly deploymentId: string
  readonly application: string
  readonly action: string
  /** Name of the job running (or being rolled back). */
  readonly job: string
  /** Position of the job in its action, from 0. */
  readonly jobIndex: number
  /** How many times this job has been started for this deployment, from 1; it grows when a deployment resumes. */
  readonly attempt: number
  /**
   * `deploymentId/job`: the same on every attempt of this job in this deployment. Pass it to external APIs that
   * deduplicate requests, so that a job run twice (at-least-once) has its effect once.
   */
  readonly idempotencyKey: string
  /**
   * The lease epoch of the process running this job: it grows each time another process takes the deployment over.
   * Pass it to systems that can refuse writes from an older token, so a process that lost the deployment (paused,
   * partitioned) cannot overwrite its successor's work.
   */
  readonly fencingToken: number
  /** The phase running now. */
  readonly phase: JobPhase
  /** Saves a value for this job under `key`, encoded with `schema`; replaces an earlier value. */
  readonly setData: <A, I>(key: string, schema: Schema.Codec<A, I>, value: A) => Effect.Effect<void, InvalidJobData>
  /** Reads a value saved under `key` by this job, or by `options.job`; `None` when there is none. */
  readonly getData: <A, I>(
    key: string,
    schema: Schema.Codec<A, I>,
    options?: { readonly job?: string }
  ) => Effect.Effect<Option.Option<A>, StoredDataCorrupt>
  /** Appends an error to the deployment's error log without failing the job. */
  readonly recordError: (error: unknown) => Effect.Effect<void>
  /** Reads the deployment's error log (of this job only with `{ job: true }`). */
  readonly errors: (options?: { readonly currentJobOnly?: boolean }) => Effect.Effect<ReadonlyArray<ErrorEntry>>
}

/**
 * The typed failures of job data operations, which any job may fail with besides its own errors.
 *
 * @since 0.1.0
 * @category models
 */
export type DataError = InvalidJobData | StoredDataCorrupt

/**
 * The job context service, provided by the runtime to every job function and rollback.
 *
 * @since 0.1.0
 * @category services
 */
export class JobContext extends Context.Service<JobContext, JobContextShape>()("effect-actions/JobContext") {}
