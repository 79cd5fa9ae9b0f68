/**
 * The persisted record of one execution of an action: the deployment, one `JobRun` per job, the failure that
 * started a rollback, and the append-only error log.
 *
 * Every model here is a Schema. Its decoded form (`Type`) is what the public API returns: options, `DateTime`s.
 * Its encoded form (`Encoded`) is exactly what a `DeploymentStore` keeps: JSON-compatible values, strings,
 * numbers and epoch milliseconds. A store never sees anything else, and the runtime decodes every row it reads,
 * so corrupt stored data is reported instead of being used.
 *
 * Job inputs, outputs and state are kept in their encoded JSON form here (`Schema.Json`), because the record is
 * shared by jobs of different types; the runtime decodes them with each job's own schema when it needs them.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The status of a deployment.
 *
 * `running` → `succeeded`; `running` → `rolling_back` → `rolled_back` | `rollback_failed`. The terminal status
 * alone tells success from failure.
 *
 * @since 0.1.0
 * @category models
 */
export const DeploymentStatus = Schema.Literals(["running", "succeeded", "rolling_back", "rolled_back", "rollback_failed"])

/**
 * @since 0.1.0
 * @category models
 */
export type DeploymentStatus = typeof DeploymentStatus.Type

/**
 * The status of one job of a deployment.
 *
 * `pending` (not reached) → `running` → `succeeded` | `failed`; a job that ran and was undone ends
 * `rolled_back` or `rollback_failed`.
 *
 * @since 0.1.0
 * @category models
 */
export const JobStatus = Schema.Literals(["pending", "running", "succeeded", "failed", "rolled_back", "rollback_failed"])

/**
 * @since 0.1.0
 * @category models
 */
export type JobStatus = typeof JobStatus.Type

/**
 * Where something happened: in a job (its input decoding, a pre-hook, execute, a post-hook, its output validation,
 * its rollback), or when the runtime tried to resume the deployment (`resume`: corrupt stored data, a changed
 * definition).
 *
 * @since 0.1.0
 * @category models
 */
export const JobPhase = Schema.Literals(["input", "pre_hook", "execute", "post_hook", "output", "rollback", "resume"])

/**
 * @since 0.1.0
 * @category models
 */
export type JobPhase = typeof JobPhase.Type

/**
 * The failure that made a deployment roll back: which job, in which phase, with which error.
 *
 * **Details**
 *
 * `tag` is the error's `_tag` (or `Defect` for a thrown exception or a die, `ExecutionStopped` for a user stop);
 * `detail` is the error encoded with the job's `error` schema when the job declared one, so it can be decoded back.
 *
 * @since 0.1.0
 * @category models
 */
export class Failure extends Schema.Class<Failure>("effect-actions/Failure")({
  job: Schema.String,
  jobIndex: Schema.Int,
  phase: JobPhase,
  tag: Schema.String,
  message: Schema.String,
  // An optional key, not `undefined`: a failure is stored as JSON, where an undefined value does not survive.
  detail: Schema.OptionFromOptionalKey(Schema.Json)
}) {}

/**
 * The record of one job of a deployment.
 *
 * @since 0.1.0
 * @category models
 */
export class JobRun extends Schema.Class<JobRun>("effect-actions/JobRun")({
  index: Schema.Int,
  name: Schema.String,
  status: JobStatus,
  /** The job's input, encoded with its input schema; `None` until the job is reached. */
  input: Schema.OptionFromUndefinedOr(Schema.Json),
  /** The job's output, encoded with its output schema; `None` until the job succeeds. */
  output: Schema.OptionFromUndefinedOr(Schema.Json),
  /** How many times the job was started (more than one after a resume). */
  attempts: Schema.Int,
  startedAt: Schema.OptionFromUndefinedOr(Schema.DateTimeUtcFromMillis),
  finishedAt: Schema.OptionFromUndefinedOr(Schema.DateTimeUtcFromMillis)
}) {}

/**
 * One entry of a deployment's append-only error log: a job failure, an error recorded by an error handler or by
 * `JobContext.recordError`, or a failed rollback.
 *
 * @since 0.1.0
 * @category models
 */
export class ErrorEntry extends Schema.Class<ErrorEntry>("effect-actions/ErrorEntry")({
  /** Position in the log, increasing in the order the entries were written. */
  sequence: Schema.Int,
  job: Schema.OptionFromUndefinedOr(Schema.String),
  phase: JobPhase,
  tag: Schema.String,
  message: Schema.String,
  detail: Schema.OptionFromUndefinedOr(Schema.Json),
  at: Schema.DateTimeUtcFromMillis
}) {}

/**
 * Why a deployment is parked: its stored data does not decode, so no process can run it (see
 * `docs/operations.md` for repairing or discarding it). A parked deployment is never claimed.
 *
 * @since 0.2.0
 * @category models
 */
export class Parked extends Schema.Class<Parked>("effect-actions/Parked")({
  /** The job whose data does not decode, when it is a job's. */
  job: Schema.OptionFromOptionalKey(Schema.String),
  /** What does not decode: `input`, `output`, `state`, `failure`, `job data "<key>"`, ... */
  field: Schema.String,
  issue: Schema.String,
  at: Schema.DateTimeUtcFromMillis
}) {}

/**
 * The record of one execution of an action.
 *
 * **Details**
 *
 * `fingerprint` identifies the job list the deployment was started with (see `Action.fingerprint`); `owner`,
 * `leaseEpoch` and `leaseExpiresAt` tell which process runs it and until when its lease holds; `failure` is the
 * failure that started a rollback; `output` is the last job's encoded output once the deployment succeeded.
 *
 * @since 0.1.0
 * @category models
 */
export class Deployment extends Schema.Class<Deployment>("effect-actions/Deployment")({
  id: Schema.String,
  application: Schema.String,
  action: Schema.String,
  key: Schema.OptionFromUndefinedOr(Schema.String),
  fingerprint: Schema.String,
  status: DeploymentStatus,
  /** Index of the job the deployment is at (running) or where its rollback is (rolling back). */
  currentJob: Schema.Int,
  state: Schema.OptionFromUndefinedOr(Schema.Json),
  output: Schema.OptionFromUndefinedOr(Schema.Json),
  failure: Schema.OptionFromUndefinedOr(Failure),
  owner: Schema.OptionFromUndefinedOr(Schema.String),
  leaseEpoch: Schema.Int,
  leaseExpiresAt: Schema.OptionFromUndefinedOr(Schema.DateTimeUtcFromMillis),
  stopRequested: Schema.Boolean,
  /** How many times the deployment was resumed (claimed by recovery) since it last reached a checkpoint. */
  resumes: Schema.Int,
  /** Set when the deployment's stored data does not decode: it is never claimed or run until repaired. */
  parked: Schema.OptionFromUndefinedOr(Parked),
  createdAt: Schema.DateTimeUtcFromMillis,
  updatedAt: Schema.DateTimeUtcFromMillis,
  jobs: Schema.Array(JobRun)
}) {}

/**
 * Whether a status is final: `succeeded`, `rolled_back` or `rollback_failed`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTerminal = (status: DeploymentStatus): boolean =>
  status === "succeeded" || status === "rolled_back" || status === "rollback_failed"

/**
 * Whether a deployment ended successfully.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSucceeded = (deployment: Pick<Deployment, "status">): boolean => deployment.status === "succeeded"

/**
 * Whether a deployment ended in failure (rolled back, with or without rollback errors).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isFailed = (deployment: Pick<Deployment, "status">): boolean =>
  deployment.status === "rolled_back" || deployment.status === "rollback_failed"
