/**
 * What the operators' operations share: the runtime they run in (`OperationsEnv`), the operation being applied
 * (`Applied`), and the pieces every operation is made of: reading the deployment, its transition's checkpoint, the
 * refusals, the history entry and the receipt.
 *
 * @internal
 */
import { Effect, Option, type Schema } from "effect"
import {
  DeploymentNotFound,
  InputValidationError,
  OperationRefused,
  type OperationRefusedReason,
  type PersistenceError
} from "../ActionError.ts"
import type * as Actions from "../Actions.ts"
import type { DeploymentStatus, Operation } from "../Deployment.ts"
import type { DeploymentRow, Json, NewHistoryRow, RequestRow, Runnable, Snapshot } from "../DeploymentStore.ts"
import { describeSchemaError } from "./codec.ts"
import type { Registration } from "./registration.ts"
import type { RunnerEnv } from "./run.ts"
import { logText } from "./storable.ts"
import {
  appliesTo as statusesOf,
  type Event,
  next,
  progressOf,
  type Refused,
  type Transition,
  type Write
} from "./transitions.ts"
import type { CheckedOperation } from "./validateOperations.ts"
import { retryTransient } from "./transient.ts"

/** What the operations need from the runtime. */
export interface OperationsEnv {
  readonly env: RunnerEnv
  /** This process's identity as a lease owner, and as the process that asks for an operation. */
  readonly owner: string
  readonly leaseTtlMillis: number
  /** The registration that can run this deployment here: the same application, action and definition. */
  readonly registrationOf: (row: DeploymentRow) => Registration | undefined
  /** The registration of an `(application, action)` pair, whatever its definition (a restart runs the current one). */
  readonly registrationFor: (application: string, action: string) => Registration | undefined
  /** What this process can run, for finding the requests it can carry out. */
  readonly runnable: () => ReadonlyArray<Runnable>
  /** Runs a deployment this process just took over (its attempt, when forward, is counted already). */
  readonly launch: (reg: Registration, snapshot: Snapshot) => Effect.Effect<void>
  /** Whether a deployment runs in this process now. */
  readonly isRunning: (deploymentId: string) => boolean
  /** Runs a take-over only while the runtime is not released (`shutdown.ts`, `whileOpen`). */
  readonly whileOpen: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Interrupts the local run of a deployment asked to stop; nothing when it does not run here. */
  readonly interruptLocal: (deploymentId: string) => Effect.Effect<void>
  /** Creates (and runs) a restart: a new deployment with the given id, linked to the one it restarts. */
  readonly createRestart: (
    reg: Registration,
    input: Json,
    key: string | undefined,
    id: string,
    restartOf: string
  ) => Effect.Effect<string, PersistenceError>
}

/** The operations' runtime, with the takeovers this process is applying now (one per deployment at a time). */
export interface OperationsContext extends OperationsEnv {
  readonly taking: Set<string>
}

/** An operation to apply: checked arguments, and the pending request it carries out, if it does. */
export interface Applied extends CheckedOperation {
  readonly operation: Operation
  readonly request: RequestRow | undefined
}

/** What a takeover writes, besides taking the lease: a checkpoint the transitions computed, and the history. */
export interface TakeOverChange {
  readonly checkpoint: Write
  readonly history: NewHistoryRow
}

/** The statuses an operation applies to: those of its transition (`transitions.ts`). */
export const appliesTo: Record<Operation, ReadonlyArray<DeploymentStatus>> = {
  stop: statusesOf.StopRequested,
  retry: statusesOf.Retry,
  rollback: statusesOf.Rollback,
  retry_rollback: statusesOf.RetryRollback,
  restart: statusesOf.Restart
}

/** The progress of a stored deployment, as the transitions see it. */
export const progressFor = (reg: Registration, snapshot: Snapshot) =>
  progressOf(snapshot, (index) => (reg.jobs[index]?.job.rollbacks.length ?? 0) > 0)

/** Marks an operation this process cannot carry out, met while carrying out requests: left for another process. */
export class NotHere {
  readonly _tag = "NotHere"
}

/** The operation refused, for a reason and with what the caller should know. */
export const refused = (
  applied: Applied,
  row: DeploymentRow,
  reason: typeof OperationRefusedReason.Type,
  detail: string
) =>
  new OperationRefused({
    deploymentId: row.id,
    operation: applied.operation,
    reason,
    status: row.status,
    detail
  })

/** The operation refused for what the transitions refused (the status was checked before: a job's record). */
export const refusedBy = (applied: Applied, row: DeploymentRow, refusal: Refused) =>
  refused(applied, row, refusal.reason === "nothing_to_retry" ? "nothing_to_retry" : "status", refusal.detail)

/** The checkpoint a transition computed, or the operation refused. */
export const checkpointOf = (
  applied: Applied,
  row: DeploymentRow,
  result: Transition
): Effect.Effect<Write, OperationRefused> => {
  if (result._tag === "Refused") return Effect.fail(refusedBy(applied, row, result))
  if (result.checkpoint === undefined) return Effect.die(new Error(`the ${applied.operation} transition writes nothing`))
  return Effect.succeed(result.checkpoint)
}

/** The checkpoint of an operator's transition of a snapshot, or the operation refused. */
export const transitionOf = (applied: Applied, reg: Registration, snapshot: Snapshot, event: Event) =>
  checkpointOf(applied, snapshot.deployment, next(progressFor(reg, snapshot), event))

/** Reads a deployment with its job records, or `DeploymentNotFound`. */
export const read = (ctx: OperationsContext, deploymentId: string) =>
  Effect.flatMap(retryTransient(ctx.env.store.get(deploymentId)), (found) =>
    Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new DeploymentNotFound({ deploymentId })))

/** The history entry of an operation; carried out for a request, it names the process that asked. */
export const historyRow = (
  ctx: OperationsContext,
  applied: Applied,
  outcome: NewHistoryRow["outcome"],
  at: number,
  fields: { readonly job?: string; readonly message?: string; readonly detail?: Json }
): NewHistoryRow => {
  const message = applied.request === undefined || outcome === "refused"
    ? fields.message
    : `carried out by ${ctx.owner}${fields.message === undefined ? "" : `; ${fields.message}`}`
  return {
    operation: applied.operation,
    outcome,
    by: applied.request?.by ?? ctx.owner,
    at,
    reason: applied.reason,
    job: fields.job,
    message: message === undefined ? undefined : logText(message),
    detail: fields.detail
  }
}

/** What an operation tells its caller. */
export const receipt = (
  applied: Applied,
  outcome: Actions.OperationReceipt["outcome"],
  restartedAs?: string
): Actions.OperationReceipt => ({
  deploymentId: applied.deploymentId,
  operation: applied.operation,
  outcome,
  restartedAs: Option.fromUndefinedOr(restartedAs)
})

/** The `InputValidationError` of an input that does not fit a job's input schema. */
export const invalidInput = (reg: Registration, index: number) => (error: Schema.SchemaError) =>
  new InputValidationError({ action: reg.action.name, job: reg.jobs[index]!.job.name, ...describeSchemaError(error) })

/** Why a pending request stands in the way of another operation. */
export const pendingText = (pending: RequestRow) =>
  `a ${pending.operation} requested by ${pending.by} is not carried out yet`
