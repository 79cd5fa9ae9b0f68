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
import { Effect, Schema } from "effect"

/**
 * The status of a deployment.
 *
 * `running` → `succeeded`; `running` → `rolling_back` → `rolled_back` | `rollback_failed`. Under the failure policy
 * `"pause"`, `running` → `paused` → (`retry`) `running` | (`rollback`, `stop`) `rolling_back`; an operator's
 * `retryRollback` takes `rollback_failed` → `rolling_back` again. The terminal status alone tells success from
 * failure. The whole machine is drawn in `docs/concepts.md`.
 *
 * @since 0.1.0
 * @category models
 */
export const DeploymentStatus = Schema.Literals([
  "running",
  "succeeded",
  "rolling_back",
  "rolled_back",
  "rollback_failed",
  "paused"
])

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
 * An attempt of a job before its last one: when it started and, when it is known, when it ended (an attempt cut
 * short by a crash has no end: its process died).
 *
 * @since 0.3.0
 * @category models
 */
export class AttemptRun extends Schema.Class<AttemptRun>("effect-actions/AttemptRun")({
  attempt: Schema.Int,
  startedAt: Schema.DateTimeUtcFromMillis,
  finishedAt: Schema.OptionFromOptionalKey(Schema.DateTimeUtcFromMillis)
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
  /** When the job's last attempt started. */
  startedAt: Schema.OptionFromUndefinedOr(Schema.DateTimeUtcFromMillis),
  /** When the job's last attempt ended (succeeded or failed). */
  finishedAt: Schema.OptionFromUndefinedOr(Schema.DateTimeUtcFromMillis),
  /** When the job's rollback started; a job without a rollback has none. */
  rollbackStartedAt: Schema.OptionFromOptionalKey(Schema.DateTimeUtcFromMillis),
  /** When the job's rollback ended (done or failed). */
  rollbackFinishedAt: Schema.OptionFromOptionalKey(Schema.DateTimeUtcFromMillis),
  /** The attempts before the last one (a resume, an operator's retry), in order; the last one is `startedAt`. */
  earlierAttempts: Schema.Array(AttemptRun).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
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
 * An operation an operator applies to a deployment.
 *
 * `stop` (a running or paused deployment), `retry` (the failed job of a paused one), `rollback` (a paused one),
 * `retry_rollback` (the failed rollbacks of a `rollback_failed` one), `restart` (a new deployment with the same
 * first input).
 *
 * @since 0.3.0
 * @category models
 */
export const Operation = Schema.Literals(["stop", "retry", "rollback", "retry_rollback", "restart"])

/**
 * @since 0.3.0
 * @category models
 */
export type Operation = typeof Operation.Type

/**
 * An operation asked by a process that cannot carry it out (it lacks the action's code: the CLI, for one), kept on
 * the deployment until a process that has the action carries it out or refuses it.
 *
 * @since 0.3.0
 * @category models
 */
export class OperationRequest extends Schema.Class<OperationRequest>("effect-actions/OperationRequest")({
  /** Identifies the request: the process that carries it out clears exactly this one. */
  id: Schema.String,
  operation: Operation,
  /** The process that asked (its `Actions.owner`). */
  by: Schema.String,
  at: Schema.DateTimeUtcFromMillis,
  reason: Schema.OptionFromOptionalKey(Schema.String),
  /** `retry`: the replacement input of the failed job, not validated yet (the carrying process validates it). */
  input: Schema.OptionFromOptionalKey(Schema.Json),
  /** `restart`: the id the new deployment gets. */
  restartId: Schema.OptionFromOptionalKey(Schema.String),
  /** `restart`: the new deployment's key. */
  key: Schema.OptionFromOptionalKey(Schema.String)
}) {}

/**
 * What became of an operation: `requested` (recorded for a process that has the action), `done` (carried out),
 * `refused` (a requested operation that its carrying process could not apply; `message` says why).
 *
 * @since 0.3.0
 * @category models
 */
export const OperationOutcome = Schema.Literals(["requested", "done", "refused"])

/**
 * @since 0.3.0
 * @category models
 */
export type OperationOutcome = typeof OperationOutcome.Type

/**
 * One entry of a deployment's history: an operator's operation, when, by which process, why.
 *
 * @since 0.3.0
 * @category models
 */
export class HistoryEntry extends Schema.Class<HistoryEntry>("effect-actions/HistoryEntry")({
  /** Position in the history, increasing in the order the entries were written. */
  sequence: Schema.Int,
  operation: Operation,
  outcome: OperationOutcome,
  /** The process that asked for the operation (its `Actions.owner`). */
  by: Schema.String,
  at: Schema.DateTimeUtcFromMillis,
  /** The operator's reason, when one was given. */
  reason: Schema.OptionFromUndefinedOr(Schema.String),
  /** The job the operation is about (the retried job), when there is one. */
  job: Schema.OptionFromUndefinedOr(Schema.String),
  /** What happened, in words: who carried it out, why it was refused. */
  message: Schema.OptionFromUndefinedOr(Schema.String),
  /** Facts of the operation: the replaced input, the restarted deployment's id. */
  detail: Schema.OptionFromUndefinedOr(Schema.Json)
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
  /** The deployment this one restarts (`Actions.restart`). */
  restartOf: Schema.OptionFromUndefinedOr(Schema.String),
  /** An operation requested by a process without the action's code, not carried out yet. */
  request: Schema.OptionFromUndefinedOr(OperationRequest),
  createdAt: Schema.DateTimeUtcFromMillis,
  updatedAt: Schema.DateTimeUtcFromMillis,
  jobs: Schema.Array(JobRun),
  /** The operators' operations on this deployment, in order; read by `Actions.get`, empty in `list`. */
  history: Schema.Array(HistoryEntry)
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
 * Whether a status is one a lease is held for: `running` or `rolling_back` (a process runs the deployment).
 *
 * @since 0.3.0
 * @category predicates
 */
export const isActive = (status: DeploymentStatus): boolean => status === "running" || status === "rolling_back"

/**
 * Whether a status waits for something outside the deployment: terminal, or `paused` (waiting for an operator).
 *
 * @since 0.3.0
 * @category predicates
 */
export const isResting = (status: DeploymentStatus): boolean => isTerminal(status) || status === "paused"

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
