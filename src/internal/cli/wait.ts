/**
 * The CLI's `--wait`: after an operation, reads the deployment every poll interval until the operation is carried
 * out (its request is gone and the history shows it `done`) and the deployment rests (paused or finished; for a
 * restart, the new deployment rests), or it is refused, or the time is up.
 *
 * The operation is recognised in the history by the process that asked for it: this CLI run's own `Actions.owner`,
 * unique per run, which every entry of the operation names in `by` (requested, then done or refused).
 *
 * @internal
 */
import { Clock, Effect, Option, Schema } from "effect"
import type { ActionsShape, OperationReceipt } from "../../Actions.ts"
import { type Deployment, type HistoryEntry, isResting } from "../../Deployment.ts"

/** A requested operation that the process carrying it out refused; the history entry says why. */
export class RequestRefused extends Schema.TaggedError<RequestRefused>()("RequestRefused", {
  deploymentId: Schema.String,
  operation: Schema.String,
  /** The deployment's status now. */
  status: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `the ${this.operation} of deployment ${this.deploymentId} was refused (status ${this.status}): ${this.detail}`
  }
}

/** `--wait` ran out of time: the operation was not carried out, or the deployment did not rest, in time. */
export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", {
  deploymentId: Schema.String,
  operation: Schema.String,
  timeout: Schema.String,
  /** The status of the deployment waited for, when last read (`unknown` before a restart's new one exists). */
  status: Schema.String,
  /** Whether the request was still pending (no process that has the action took it). */
  pending: Schema.Boolean
}) {
  override get message(): string {
    return this.pending
      ? `the ${this.operation} of deployment ${this.deploymentId} was not carried out within ${this.timeout}: no ` +
        "process that has the action took the request (is one running, with recovery on?); the request stays pending"
      : `the ${this.operation} of deployment ${this.deploymentId} was carried out, but the deployment did not rest ` +
        `within ${this.timeout} (status ${this.status}); follow it with show`
  }
}

/** How a waited-for operation ended: its history entry, and the deployment it left resting. */
export interface Waited {
  readonly entry: HistoryEntry
  /** The deployment, or for a restart the new deployment, as it rests. */
  readonly deployment: Deployment
}

/** The last entry of the operation this process asked for that says how it ended (done or refused). */
const outcomeOf = (deployment: Deployment, receipt: OperationReceipt, owner: string): HistoryEntry | undefined =>
  deployment.history.findLast((entry) =>
    entry.by === owner && entry.operation === receipt.operation && entry.outcome !== "requested"
  )

/** Waits for an operation this process asked for; see the module's documentation. */
export const waitFor = (
  actions: ActionsShape,
  receipt: OperationReceipt,
  options: { readonly timeoutMillis: number; readonly timeoutText: string; readonly pollMillis: number }
) =>
  Effect.gen(function*() {
    const deadline = (yield* Clock.currentTimeMillis) + options.timeoutMillis
    let pending = true
    let status = "unknown"
    while (true) {
      const deployment = yield* actions.get(receipt.deploymentId)
      status = deployment.status
      const ours = Option.isSome(deployment.request) && deployment.request.value.by === actions.owner
      const entry = ours ? undefined : outcomeOf(deployment, receipt, actions.owner)
      if (entry !== undefined) {
        pending = false
        if (entry.outcome === "refused") {
          return yield* new RequestRefused({
            deploymentId: deployment.id,
            operation: receipt.operation,
            status: deployment.status,
            detail: Option.getOrElse(entry.message, () => "no reason recorded")
          })
        }
        const target = Option.isSome(receipt.restartedAs)
          ? yield* actions.get(receipt.restartedAs.value).pipe(
            Effect.map(Option.some),
            // Not created yet: a restart creates it before it records the operation done, so only for a moment.
            Effect.catchTag("DeploymentNotFound", () => Effect.succeed(Option.none<Deployment>()))
          )
          : Option.some(deployment)
        if (Option.isSome(target)) {
          status = target.value.status
          if (isResting(target.value.status)) return { entry, deployment: target.value } satisfies Waited
        } else {
          status = "unknown"
        }
      }
      const now = yield* Clock.currentTimeMillis
      if (now >= deadline) {
        return yield* new WaitTimedOut({
          deploymentId: receipt.deploymentId,
          operation: receipt.operation,
          timeout: options.timeoutText,
          status,
          pending
        })
      }
      yield* Effect.sleep(Math.min(options.pollMillis, deadline - now))
    }
  })
