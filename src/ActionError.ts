/**
 * Every error the public API of effect-actions can fail with.
 *
 * Each error is a `Schema.TaggedError`: an `Error` with a `_tag` for `Effect.catchTag`, typed fields for the
 * facts a caller branches on, a readable `message`, and a schema so it can be persisted and read back.
 *
 * The errors fall in four groups:
 * - definition errors, raised before anything runs: `EmptyJobSequence`, `DuplicateJobName`,
 *   `ActionAlreadyRegistered`, `ActionNotFound`;
 * - input errors, raised before any side effect: `InputValidationError`, `InvalidJobData`;
 * - job failures, which make a deployment roll back: `OutputValidationError`, `JobNilOutput`, `JobTimeout`,
 *   `StateValidationError`, `ExecutionStopped`; the outcome reaches the caller as `DeploymentFailed`;
 * - runtime and storage errors: `DeploymentNotFound`, `DeploymentNotRunning`, `PersistenceError`,
 *   `StoredDataCorrupt`, `LeaseLost`, `ActionVersionMismatch`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * An action was defined with no jobs.
 *
 * @since 0.1.0
 * @category definition errors
 */
export class EmptyJobSequence extends Schema.TaggedError<EmptyJobSequence>()("EmptyJobSequence", {
  action: Schema.String
}) {
  override get message(): string {
    return `action "${this.action}" has no jobs: an action needs at least one job`
  }
}

/**
 * Two jobs of one action share a name; job names identify jobs in the persisted record, so they must be unique.
 * Use `Job.rename` to run one job twice.
 *
 * @since 0.1.0
 * @category definition errors
 */
export class DuplicateJobName extends Schema.TaggedError<DuplicateJobName>()("DuplicateJobName", {
  action: Schema.String,
  job: Schema.String
}) {
  override get message(): string {
    return `action "${this.action}" has more than one job named "${this.job}": use Job.rename to run a job twice`
  }
}

/**
 * The `(application, action)` pair is already registered with this `Actions` service.
 *
 * @since 0.1.0
 * @category definition errors
 */
export class ActionAlreadyRegistered extends Schema.TaggedError<ActionAlreadyRegistered>()(
  "ActionAlreadyRegistered",
  { application: Schema.String, action: Schema.String }
) {
  override get message(): string {
    return `action "${this.action}" is already registered for application "${this.application}"`
  }
}

/**
 * No action is registered for the `(application, action)` pair asked for.
 *
 * @since 0.1.0
 * @category definition errors
 */
export class ActionNotFound extends Schema.TaggedError<ActionNotFound>()("ActionNotFound", {
  application: Schema.String,
  action: Schema.String,
  detail: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    const base = `no action "${this.action}" is registered for application "${this.application}"`
    return this.detail === undefined ? base : `${base}: ${this.detail}`
  }
}

/**
 * The input of a job does not satisfy its input schema. Raised before the job has any side effect; when the
 * first job's input is invalid, no deployment is created.
 *
 * @since 0.1.0
 * @category input errors
 */
export class InputValidationError extends Schema.TaggedError<InputValidationError>()("InputValidationError", {
  action: Schema.String,
  job: Schema.String,
  path: Schema.String,
  issue: Schema.String
}) {
  override get message(): string {
    return `invalid input for job "${this.job}" of action "${this.action}" at ${this.path}: ${this.issue}`
  }
}

/**
 * A value given to `JobContext.setData` does not satisfy the schema it was given with; nothing was written.
 *
 * @since 0.1.0
 * @category input errors
 */
export class InvalidJobData extends Schema.TaggedError<InvalidJobData>()("InvalidJobData", {
  deploymentId: Schema.String,
  job: Schema.String,
  key: Schema.String,
  issue: Schema.String
}) {
  override get message(): string {
    return `job data "${this.key}" of job "${this.job}" (deployment ${this.deploymentId}) does not fit its schema: ${this.issue}`
  }
}

/**
 * The value a job produced does not satisfy its output schema; the job fails and the deployment rolls back.
 *
 * @since 0.1.0
 * @category job failures
 */
export class OutputValidationError extends Schema.TaggedError<OutputValidationError>()("OutputValidationError", {
  action: Schema.String,
  job: Schema.String,
  path: Schema.String,
  issue: Schema.String
}) {
  override get message(): string {
    return `invalid output from job "${this.job}" of action "${this.action}" at ${this.path}: ${this.issue}`
  }
}

/**
 * A job produced `undefined` or `null` where its output schema does not allow it (the seed's `ErrJobNilOutput`).
 * A job that has nothing to return should pass its input through.
 *
 * @since 0.1.0
 * @category job failures
 */
export class JobNilOutput extends Schema.TaggedError<JobNilOutput>()("JobNilOutput", {
  action: Schema.String,
  job: Schema.String
}) {
  override get message(): string {
    return `job "${this.job}" of action "${this.action}" returned nothing: return a value (pass the input through if there is nothing else)`
  }
}

/**
 * The action's state does not satisfy the state schema. As a job left it: the job fails and the deployment rolls
 * back. As the state's `initial` value (no `job`, since 0.2.0): `Actions.register` fails with it. Nothing invalid
 * is persisted.
 *
 * @since 0.1.0
 * @category job failures
 */
export class StateValidationError extends Schema.TaggedError<StateValidationError>()("StateValidationError", {
  action: Schema.String,
  /** The job that left the state; absent when the state's `initial` value itself is invalid (at `register`). */
  job: Schema.optionalKey(Schema.String),
  path: Schema.String,
  issue: Schema.String
}) {
  override get message(): string {
    const whose = this.job === undefined ? "the initial state" : `the state left by job "${this.job}"`
    return `${whose} of action "${this.action}" is invalid at ${this.path}: ${this.issue}`
  }
}

/**
 * A job did not finish within its `timeout`.
 *
 * @since 0.1.0
 * @category job failures
 */
export class JobTimeout extends Schema.TaggedError<JobTimeout>()("JobTimeout", {
  job: Schema.String,
  timeout: Schema.String
}) {
  override get message(): string {
    return `job "${this.job}" did not finish within ${this.timeout}`
  }
}

/**
 * A user stopped the deployment (the seed's `ErrExecutionStopped`); the jobs that ran were rolled back.
 *
 * @since 0.1.0
 * @category job failures
 */
export class ExecutionStopped extends Schema.TaggedError<ExecutionStopped>()("ExecutionStopped", {
  deploymentId: Schema.String
}) {
  override get message(): string {
    return `deployment ${this.deploymentId} was stopped by a user request`
  }
}

/**
 * One rollback that failed while a deployment was rolling back.
 *
 * @since 0.1.0
 * @category job failures
 */
export class RollbackFailure extends Schema.Class<RollbackFailure>("effect-actions/RollbackFailure")({
  job: Schema.String,
  tag: Schema.String,
  message: Schema.String
}) {}

/**
 * A deployment did not succeed: one of its jobs failed (or it was stopped) and the jobs that ran were rolled back.
 *
 * **Details**
 *
 * `status` is `rolled_back` when every rollback succeeded and `rollback_failed` when at least one did not; in that
 * case `rollbackFailures` lists them all, and resources may have leaked. `job`, `reason` and `error` describe the
 * failure that started the rollback: `reason` is the failure's tag (`OutputValidationError`, `ExecutionStopped`,
 * a tag of the job's own error schema, or `Defect`), `error` the failure value itself when this process saw it
 * happen, or its encoded form when it was read back from the store.
 *
 * @since 0.1.0
 * @category job failures
 */
export class DeploymentFailed extends Schema.TaggedError<DeploymentFailed>()("DeploymentFailed", {
  deploymentId: Schema.String,
  application: Schema.String,
  action: Schema.String,
  status: Schema.Literals(["rolled_back", "rollback_failed"]),
  job: Schema.String,
  reason: Schema.String,
  failureMessage: Schema.String,
  error: Schema.Unknown,
  rollbackFailures: Schema.Array(RollbackFailure)
}) {
  override get message(): string {
    const rolled = this.status === "rolled_back"
      ? "rolled back"
      : `rollback failed (${this.rollbackFailures.map((f) => `${f.job}: ${f.message}`).join("; ")})`
    return `deployment ${this.deploymentId} of action "${this.action}" failed at job "${this.job}" (${this.reason}: ${this.failureMessage}); ${rolled}`
  }
}

/**
 * No deployment has the given id.
 *
 * @since 0.1.0
 * @category runtime errors
 */
export class DeploymentNotFound extends Schema.TaggedError<DeploymentNotFound>()("DeploymentNotFound", {
  deploymentId: Schema.String
}) {
  override get message(): string {
    return `no deployment has id ${this.deploymentId}`
  }
}

/**
 * The operation needs a running deployment, and this one has already finished or is rolling back.
 *
 * @since 0.1.0
 * @category runtime errors
 */
export class DeploymentNotRunning extends Schema.TaggedError<DeploymentNotRunning>()("DeploymentNotRunning", {
  deploymentId: Schema.String,
  status: Schema.String
}) {
  override get message(): string {
    return `deployment ${this.deploymentId} is not running (status ${this.status})`
  }
}

/**
 * Why a persistence operation failed, for callers that branch on it.
 *
 * - `connection`: the store could not be reached (transient);
 * - `conflict`: a write lost a race (unique key, serialization or deadlock; transient);
 * - `timeout`: a statement or lock timed out (transient);
 * - `invalid`: the store refused the data (constraint, syntax, authorization; not transient);
 * - `unknown`: anything else.
 *
 * @since 0.1.0
 * @category runtime errors
 */
export const PersistenceErrorReason = Schema.Literals(["connection", "conflict", "timeout", "invalid", "unknown"])

/**
 * @since 0.1.0
 * @category runtime errors
 */
export type PersistenceErrorReason = typeof PersistenceErrorReason.Type

/**
 * A persistence layer could not do what was asked. Backend errors (such as `SqlError`) never leave the public API:
 * stores map them to this error at their boundary.
 *
 * @since 0.1.0
 * @category runtime errors
 */
export class PersistenceError extends Schema.TaggedError<PersistenceError>()("PersistenceError", {
  reason: PersistenceErrorReason,
  operation: Schema.String,
  detail: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {
  /** Whether retrying the same operation may succeed. */
  get isTransient(): boolean {
    return this.reason === "connection" || this.reason === "conflict" || this.reason === "timeout"
  }
  override get message(): string {
    return `persistence failed in ${this.operation} (${this.reason}): ${this.detail}`
  }
}

/**
 * Data read from the store no longer decodes with the schema that should read it. The stored row is left as it
 * is: it is reported, never overwritten or deleted.
 *
 * @since 0.1.0
 * @category runtime errors
 */
export class StoredDataCorrupt extends Schema.TaggedError<StoredDataCorrupt>()("StoredDataCorrupt", {
  deploymentId: Schema.String,
  job: Schema.optionalKey(Schema.String),
  field: Schema.String,
  issue: Schema.String
}) {
  override get message(): string {
    const where = this.job === undefined ? "" : ` of job "${this.job}"`
    return `stored ${this.field}${where} of deployment ${this.deploymentId} does not decode: ${this.issue}`
  }
}

/**
 * This process no longer holds the lease of a deployment (another process claimed it after the lease expired),
 * so its write was refused. The local run stops without further side effects.
 *
 * @since 0.1.0
 * @category runtime errors
 */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  deploymentId: Schema.String,
  owner: Schema.String,
  epoch: Schema.Number
}) {
  override get message(): string {
    return `process ${this.owner} lost the lease of deployment ${this.deploymentId} (epoch ${this.epoch})`
  }
}

/**
 * A stored deployment was started by a different definition of its action (another job list) than the one
 * registered now. The deployment is left untouched.
 *
 * @since 0.1.0
 * @category runtime errors
 */
export class ActionVersionMismatch extends Schema.TaggedError<ActionVersionMismatch>()("ActionVersionMismatch", {
  deploymentId: Schema.String,
  action: Schema.String,
  stored: Schema.String,
  registered: Schema.String
}) {
  override get message(): string {
    return `deployment ${this.deploymentId} was started by action "${this.action}" with jobs ${this.stored}, but the registered definition has jobs ${this.registered}`
  }
}

/**
 * An option of a layer (`Actions.layer`, a store layer) is out of its allowed range. The layer fails with this
 * error when it is built, and does nothing else.
 *
 * @since 0.2.0
 * @category configuration errors
 */
export class InvalidOption extends Schema.TaggedError<InvalidOption>()("InvalidOption", {
  /** The option's path, such as `recovery.batch`. */
  option: Schema.String,
  /** The value given, as text. */
  value: Schema.String,
  /** What the option accepts. */
  expected: Schema.String
}) {
  override get message(): string {
    return `invalid option ${this.option}: got ${this.value}, expected ${this.expected}`
  }
}

/**
 * An argument of a public operation is not a value the operation accepts (a wrong type, an out-of-range number, an
 * unparsable duration, an unstorable name). Nothing was done.
 *
 * @since 0.2.0
 * @category runtime errors
 */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  /** The operation, such as `list` or `prune`. */
  operation: Schema.String,
  /** The argument's path, such as `limit` or `options.olderThan`. */
  argument: Schema.String,
  /** What is wrong with it. */
  issue: Schema.String
}) {
  override get message(): string {
    return `invalid argument ${this.argument} of ${this.operation}: ${this.issue}`
  }
}

/**
 * A value a job produced cannot be held by the store (for example a string with `\u0000`, or an unpaired UTF-16
 * surrogate, in PostgreSQL's `jsonb`, or a value over the store's size limit). Retrying could never store it, so
 * the job fails with this error (and the deployment rolls back) instead of being resumed again and again.
 *
 * @since 0.2.0
 * @category job errors
 */
export class UnstorableValue extends Schema.TaggedError<UnstorableValue>()("UnstorableValue", {
  job: Schema.String,
  /** What could not be stored: `output`, `state`, `input`, `job data "<key>"`, `error log`, ... */
  value: Schema.String,
  /** The store's own words. */
  detail: Schema.String
}) {
  override get message(): string {
    return `the store cannot hold the ${this.value} of job "${this.job}": ${this.detail}`
  }
}

/**
 * A deployment was resumed more times than `recovery.maxResumes` without reaching a new checkpoint: something
 * stops every run of it (a crash, a write that never commits). It is not resumed again: the job it was at fails
 * with this error and the deployment rolls back; in a rollback, that job's rollback is recorded as failed with this
 * error and the earlier rollbacks still run.
 *
 * @since 0.2.0
 * @category job errors
 */
export class ResumeLimitExceeded extends Schema.TaggedError<ResumeLimitExceeded>()("ResumeLimitExceeded", {
  deploymentId: Schema.String,
  job: Schema.String,
  resumes: Schema.Number,
  limit: Schema.Number
}) {
  override get message(): string {
    return `deployment ${this.deploymentId} was resumed ${this.resumes} times at job "${this.job}" without reaching a new checkpoint (limit ${this.limit})`
  }
}


/**
 * Why an operator's operation was refused: `status` (the deployment is not in a status the operation applies to),
 * `request_pending` (another operation is requested and not carried out yet), `changed` (the deployment changed
 * while the operation was being applied: read it again), `nothing_to_retry` (a `rollback_failed` deployment without
 * a failed rollback).
 *
 * @since 0.3.0
 * @category runtime errors
 */
export const OperationRefusedReason = Schema.Literals(["status", "request_pending", "changed", "nothing_to_retry"])

/**
 * An operator's operation (`retry`, `rollback`, `retryRollback`, `restart`, `stop` of a paused deployment) does not
 * apply to the deployment as it is; nothing was changed.
 *
 * @since 0.3.0
 * @category runtime errors
 */
export class OperationRefused extends Schema.TaggedError<OperationRefused>()("OperationRefused", {
  deploymentId: Schema.String,
  operation: Schema.String,
  reason: OperationRefusedReason,
  /** The deployment's status when it was refused. */
  status: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.operation} deployment ${this.deploymentId} (status ${this.status}): ${this.detail}`
  }
}
