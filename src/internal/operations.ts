/**
 * The operators' operations: `stop`, `retry`, `rollback`, `retryRollback`, `restart`, and `bulk`.
 *
 * **How an operation is applied.** It reads the deployment, checks that the operation applies to its status, and
 * then:
 * - in a process that has the action registered (the same definition; for `restart`, the same name), it takes the
 *   deployment over with one compare-and-set write (`DeploymentStore.takeOver`: only if the deployment is still as
 *   it was read), which records the operation in the history and makes this process the lease holder, and runs it
 *   here: forward (`retry`) or backward (`rollback`, `stop`, `retryRollback`). `restart` creates a new deployment.
 * - in a process without the action (the CLI), it records a request on the deployment (`requestOperation`), which a
 *   live process that has the action carries out at its next recovery pass (`carryRequests`), through the same
 *   path; a request that no longer applies there is refused, and the refusal recorded in the history.
 *
 * `stop` of a running deployment is the stop flag, as always: its owner rolls it back, wherever it runs.
 *
 * Each part has its own module: the shared pieces (`operationContext.ts`), applying one operation
 * (`operationApply.ts`), the takeover (`operationTakeOver.ts`), `retry` (`operationRetry.ts`), `rollback`, `stop` of
 * a paused deployment and `retryRollback` (`operationRollback.ts`), `restart` (`operationRestart.ts`), recording a
 * request (`operationRequests.ts`) and carrying requests out (`carryRequests.ts`), and `bulk` (`operationBulk.ts`).
 *
 * @internal
 */
import type { Operation } from "../Deployment.ts"
import { carryRequests, carryStop } from "./carryRequests.ts"
import { operate } from "./operationApply.ts"
import { bulk } from "./operationBulk.ts"
import type { OperationsContext, OperationsEnv } from "./operationContext.ts"
import type { CheckedBulk, CheckedOperation } from "./validateOperations.ts"

export type { OperationsEnv } from "./operationContext.ts"

/** Builds the operations of a runtime. */
export const makeOperations = (deps: OperationsEnv) => {
  const ctx: OperationsContext = { ...deps, taking: new Set<string>() }
  return {
    operate: (operation: Operation, checked: CheckedOperation) => operate(ctx, operation, checked),
    carryStop: (deploymentId: string, reason: string) => carryStop(ctx, deploymentId, reason),
    carryRequests: (limit: number) => carryRequests(ctx, limit),
    bulk: (checked: CheckedBulk) => bulk(ctx, checked)
  }
}
