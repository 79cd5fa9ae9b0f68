/**
 * The operators' operations as entry points of the runtime: `stop`, `retry`, `rollback`, `retryRollback`, `restart`
 * and `bulk`, each checking its arguments (`validateOperations.ts`) before `operations.ts` applies it.
 *
 * @internal
 */
import { Effect } from "effect"
import type { DeploymentNotRunning, InputValidationError } from "../ActionError.ts"
import type {
  ActionsShape,
  BulkOptions,
  OperationError,
  OperationOptions,
  RestartOptions,
  RetryOptions
} from "../Actions.ts"
import type { makeOperations } from "./operations.ts"
import { bulkArguments, operationArguments } from "./validateOperations.ts"

/** The entry points of the runtime that operators drive deployments with. */
export type OperatorMethods = Pick<ActionsShape, "stop" | "retry" | "rollback" | "retryRollback" | "restart" | "bulk">

/**
 * The failures one operation can end with: the operations share one implementation, whose failures are the union of
 * theirs (only `retry` and `restart` validate an input; only `stop` answers `DeploymentNotRunning`).
 */
const narrow = <E>() => <A, E2>(effect: Effect.Effect<A, E2>): Effect.Effect<A, E> => effect as Effect.Effect<A, never>

/** Builds the operators' entry points on the runtime's operations. */
export const makeOperatorMethods = (
  operations: Pick<ReturnType<typeof makeOperations>, "operate" | "bulk">
): OperatorMethods => ({
  stop: Effect.fn("Actions.stop")(function*(deploymentId: string, operationOptions?: OperationOptions) {
    return yield* narrow<OperationError | DeploymentNotRunning>()(
      operations.operate("stop", yield* operationArguments("stop", deploymentId, operationOptions))
    )
  }),
  retry: Effect.fn("Actions.retry")(function*(deploymentId: string, retryOptions?: RetryOptions) {
    return yield* narrow<OperationError | InputValidationError>()(
      operations.operate("retry", yield* operationArguments("retry", deploymentId, retryOptions))
    )
  }),
  rollback: Effect.fn("Actions.rollback")(function*(deploymentId: string, operationOptions?: OperationOptions) {
    return yield* narrow<OperationError>()(
      operations.operate("rollback", yield* operationArguments("rollback", deploymentId, operationOptions))
    )
  }),
  retryRollback: Effect.fn("Actions.retryRollback")(function*(deploymentId: string, operationOptions?: OperationOptions) {
    return yield* narrow<OperationError>()(
      operations.operate("retry_rollback", yield* operationArguments("retry_rollback", deploymentId, operationOptions))
    )
  }),
  restart: Effect.fn("Actions.restart")(function*(deploymentId: string, restartOptions?: RestartOptions) {
    return yield* narrow<OperationError | InputValidationError>()(
      operations.operate("restart", yield* operationArguments("restart", deploymentId, restartOptions))
    )
  }),
  bulk: Effect.fn("Actions.bulk")(function*(bulkOptions: BulkOptions) {
    return yield* operations.bulk(yield* bulkArguments(bulkOptions))
  })
})
