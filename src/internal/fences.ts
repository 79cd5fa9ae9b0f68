/**
 * Fences, as every store checks them: a fenced write applies only while the stored lease is the writer's (same
 * `owner`, same `leaseEpoch`), and fails with `LeaseLost` when it is not.
 *
 * @internal
 */
import { LeaseLost } from "../ActionError.ts"
import type { DeploymentRow, Fence } from "../DeploymentStore.ts"

/** The `LeaseLost` of a write whose fence no longer holds. */
export const leaseLost = (fence: Fence): LeaseLost =>
  new LeaseLost({ deploymentId: fence.deploymentId, owner: fence.owner, epoch: fence.epoch })

/** Whether a stored deployment row's lease is the one `fence` names (same owner, same epoch). */
export const holdsLease = (row: Pick<DeploymentRow, "owner" | "leaseEpoch">, fence: Fence): boolean =>
  row.owner === fence.owner && row.leaseEpoch === fence.epoch
