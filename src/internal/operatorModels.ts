/**
 * The models of the operators' operations on the runtime (`Actions.stop`, `retry`, `rollback`, `retryRollback`,
 * `restart`, `bulk`): their options, receipts, failures and bulk results. `Actions` exports them.
 *
 * @internal
 */
import type { DateTime, Option } from "effect"
import type {
  DeploymentNotFound,
  InvalidArgument,
  OperationRefused,
  PersistenceError,
  StoredDataCorrupt
} from "../ActionError.ts"
import type { DeploymentStatus, Operation } from "../Deployment.ts"

/**
 * What every operator operation takes.
 *
 * @since 0.3.0
 * @category models
 */
export interface OperationOptions {
  /** Why the operator acts; kept in the deployment's history (at most 4,096 characters). */
  readonly reason?: string
}

/**
 * Options of `retry`.
 *
 * @since 0.3.0
 * @category models
 */
export interface RetryOptions extends OperationOptions {
  /**
   * A replacement input for the failed job, in its encoded (JSON) form, as `startByName` takes one: decoded by the
   * job's input schema (an `InputValidationError` when it does not fit, and nothing changes), stored in the job's
   * record, and the input it replaces kept in the history.
   */
  readonly input?: unknown
}

/**
 * Options of `restart`.
 *
 * @since 0.3.0
 * @category models
 */
export interface RestartOptions extends OperationOptions {
  /** The new deployment's key; none by default (the original's key names the original). */
  readonly key?: string
}

/**
 * What an operator operation did.
 *
 * **Details**
 *
 * `outcome` is `"done"` when this process carried the operation out (the deployment runs here now, or its owner
 * was told to stop), `"requested"` when this process lacks the action's code (the CLI, for one): the request is
 * kept on the deployment, and a live process that has the action carries it out at its next recovery pass (see
 * `docs/operations.md`); the deployment's `request` and `history` tell when it has.
 *
 * @since 0.3.0
 * @category models
 */
export interface OperationReceipt {
  readonly deploymentId: string
  readonly operation: Operation
  readonly outcome: "done" | "requested"
  /** `restart`: the id of the new deployment (known before it is created, when requested). */
  readonly restartedAs: Option.Option<string>
}

/**
 * Failures every operator operation may end with.
 *
 * @since 0.3.0
 * @category models
 */
export type OperationError =
  | DeploymentNotFound
  | OperationRefused
  | StoredDataCorrupt
  | PersistenceError
  | InvalidArgument

/**
 * The deployments a bulk operation applies to. An absent field does not filter.
 *
 * @since 0.3.0
 * @category models
 */
export interface BulkFilter {
  /** By default the statuses the operation applies to (`stop`: running and paused; `retry`, `rollback`: paused; `retryRollback`: rollback_failed). */
  readonly statuses?: ReadonlyArray<DeploymentStatus>
  readonly application?: string
  readonly action?: string
  /** Created before this time (exclusive). */
  readonly createdBefore?: DateTime.Utc
  /** Created at or after this time (inclusive). */
  readonly createdAfter?: DateTime.Utc
}

/**
 * Options of `bulk`.
 *
 * @since 0.3.0
 * @category models
 */
export interface BulkOptions extends OperationOptions {
  readonly operation: Exclude<Operation, "restart">
  readonly filter?: BulkFilter
  /** Only count and list the deployments the operation would apply to. */
  readonly dryRun?: boolean
}

/**
 * What a bulk operation did to one deployment.
 *
 * @since 0.3.0
 * @category models
 */
export interface BulkItem {
  readonly deploymentId: string
  /** `refused`: the operation did not apply (the deployment changed meanwhile, say); `message` says why. */
  readonly outcome: "done" | "requested" | "refused"
  readonly message: Option.Option<string>
}

/**
 * What a bulk operation did.
 *
 * @since 0.3.0
 * @category models
 */
export interface BulkResult {
  readonly operation: Exclude<Operation, "restart">
  readonly dryRun: boolean
  /** How many deployments matched the filter when the operation started. */
  readonly matched: number
  readonly ids: ReadonlyArray<string>
  /** One item per matched deployment, in the order of `ids`; empty on a dry run. */
  readonly items: ReadonlyArray<BulkItem>
}
