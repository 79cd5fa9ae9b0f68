/**
 * The operators' part of the persistence contract: stop requests, takeovers (a compare-and-set on the status and
 * the lease epoch), requested operations and the queries that find them. `DeploymentStore` exports them.
 *
 * @internal
 */
import type { DeploymentStatus } from "../Deployment.ts"
import type { Runnable } from "../DeploymentStore.ts"
import type { DeploymentPatch, JobPatch } from "./storeCheckpoint.ts"
import type { DeploymentRow, NewErrorRow, NewHistoryRow, ParkedRow, RequestRow, Snapshot } from "./storeRows.ts"

/**
 * The outcome of `requestStop`.
 *
 * @since 0.1.0
 * @category models
 */
export type StopResult =
  | { readonly _tag: "Requested"; readonly owner: string | undefined }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "NotRunning"; readonly status: DeploymentStatus }
  | { readonly _tag: "Parked"; readonly parked: ParkedRow }

/**
 * A compare-and-set takeover of a deployment nobody holds a lease on (`paused`, `rollback_failed`), for an operator's
 * operation carried out by this process: applied only when the deployment is still as the caller read it.
 *
 * **Details**
 *
 * When the stored deployment has status `expect.status` and lease epoch `expect.leaseEpoch`, is not parked, and its
 * pending request is `expect.requestId` (none when absent), the store, in one atomic write: applies the patches,
 * makes `owner` the lease holder (epoch + 1, expiry `now + leaseTtlMillis` on the store's clock), resets `resumes`
 * and `stopRequested`, clears the pending request, sets `updatedAt` to `at`, and appends the errors and the history
 * entry. Otherwise it writes nothing.
 *
 * @since 0.3.0
 * @category models
 */
export interface TakeOver {
  readonly deploymentId: string
  readonly expect: {
    readonly status: DeploymentStatus
    readonly leaseEpoch: number
    readonly requestId?: string
  }
  readonly owner: string
  readonly now: number
  readonly leaseTtlMillis: number
  readonly at: number
  readonly deployment: DeploymentPatch
  readonly jobs: ReadonlyArray<JobPatch>
  readonly errors: ReadonlyArray<NewErrorRow>
  readonly history: NewHistoryRow
}

/**
 * The outcome of `takeOver`: the deployment as it is now held by the caller, or what it found instead.
 *
 * @since 0.3.0
 * @category models
 */
export type TakeOverResult =
  | { readonly _tag: "TakenOver"; readonly snapshot: Snapshot }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "Changed"; readonly deployment: DeploymentRow }

/**
 * A request for an operation that needs the action's code, recorded for a process that has it.
 *
 * @since 0.3.0
 * @category models
 */
export interface OperationRequestWrite {
  readonly deploymentId: string
  readonly request: RequestRow
  /** The statuses the deployment must be in for the request to be recorded. */
  readonly statuses: ReadonlyArray<DeploymentStatus>
  readonly history: NewHistoryRow
}

/**
 * The outcome of `requestOperation`.
 *
 * @since 0.3.0
 * @category models
 */
export type OperationRequestResult =
  | { readonly _tag: "Requested" }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "Parked"; readonly parked: ParkedRow }
  /** Not in one of the statuses asked for, or a request is pending already (`pending`). */
  | { readonly _tag: "Refused"; readonly status: DeploymentStatus; readonly pending?: RequestRow }

/**
 * A query for the pending requests this process can carry out.
 *
 * @since 0.3.0
 * @category models
 */
export interface RequestQuery {
  readonly runnable: ReadonlyArray<Runnable>
  readonly limit: number
}
