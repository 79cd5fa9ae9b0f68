/**
 * effect-actions: durable, typed job pipelines with rollback, on Effect.
 *
 * @since 0.1.0
 */

/**
 * Named, ordered job lists whose types chain.
 *
 * @since 0.1.0
 */
export * as Action from "./Action.ts"

/**
 * Every public error.
 *
 * @since 0.1.0
 */
export * as ActionError from "./ActionError.ts"

/**
 * The runtime service.
 *
 * @since 0.1.0
 */
export * as Actions from "./Actions.ts"

/**
 * The persisted record of a deployment.
 *
 * @since 0.1.0
 */
export * as Deployment from "./Deployment.ts"

/**
 * The persistence contract and the in-memory store.
 *
 * @since 0.1.0
 */
export * as DeploymentStore from "./DeploymentStore.ts"

/**
 * Error handlers for job functions.
 *
 * @since 0.1.0
 */
export * as ErrorHandler from "./ErrorHandler.ts"

/**
 * Jobs: schemas, hooks, execute, rollbacks.
 *
 * @since 0.1.0
 */
export * as Job from "./Job.ts"

/**
 * The service job functions and rollbacks use.
 *
 * @since 0.1.0
 */
export * as JobContext from "./JobContext.ts"

/**
 * The metrics the runtime records: deployments, jobs, rollbacks, recovery, durations.
 *
 * @since 0.3.0
 */
export * as Metrics from "./Metrics.ts"

/**
 * The persistence contract over `effect/sql`, on PostgreSQL.
 *
 * @since 0.1.0
 */
export * as SqlDeploymentStore from "./SqlDeploymentStore.ts"

/**
 * Typed state shared by the jobs of a deployment.
 *
 * @since 0.1.0
 */
export * as State from "./State.ts"
