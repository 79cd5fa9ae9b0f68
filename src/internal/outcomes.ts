/**
 * Reading deployments back from the store: decoding rows into the public models, and turning a finished
 * deployment into the result (or the `DeploymentFailed`) that `execute` would have returned.
 *
 * @internal
 */
import { Effect, Option, Schema } from "effect"
import { DeploymentFailed, RollbackFailure, StoredDataCorrupt } from "../ActionError.ts"
import { Deployment, ErrorEntry, Failure } from "../Deployment.ts"
import type { DeploymentRow, DeploymentStoreShape, ErrorRow, HistoryRow, Snapshot } from "../DeploymentStore.ts"
import type { PersistenceError } from "../ActionError.ts"
import { describeSchemaError, jsonCodec } from "./codec.ts"
import type { Registration } from "./registration.ts"

const corrupt = (deploymentId: string, field: string, error: Schema.SchemaError, job?: string) =>
  new StoredDataCorrupt({
    deploymentId,
    field,
    issue: describeSchemaError(error).issue,
    ...(job === undefined ? {} : { job })
  })

const decodeDeployment = Schema.decodeUnknownEffect(Deployment)
const decodeErrorEntry = Schema.decodeUnknownEffect(ErrorEntry)
const decodeFailure = Schema.decodeUnknownEffect(Failure)

/** Decodes a stored deployment with its jobs (and its history, when read). */
export const toDeployment = (
  snapshot: Snapshot,
  history: ReadonlyArray<HistoryRow> = []
): Effect.Effect<Deployment, StoredDataCorrupt> =>
  Effect.mapError(
    decodeDeployment({ ...snapshot.deployment, jobs: snapshot.jobs, history }),
    (error) => corrupt(snapshot.deployment.id, "deployment record", error)
  )

/** Decodes a stored deployment row without its jobs. */
export const toDeploymentWithoutJobs = (row: DeploymentRow): Effect.Effect<Deployment, StoredDataCorrupt> =>
  toDeployment({ deployment: row, jobs: [] })

/** Decodes stored error log rows. */
export const toErrorEntries = (
  deploymentId: string,
  rows: ReadonlyArray<ErrorRow>
): Effect.Effect<ReadonlyArray<ErrorEntry>, StoredDataCorrupt> =>
  Effect.forEach(rows, (row) => Effect.mapError(decodeErrorEntry(row), (error) => corrupt(deploymentId, "error log", error)))

/** The output of a succeeded deployment, decoded with its last job's output schema when it is registered. */
export const storedOutput = (
  snapshot: Snapshot,
  reg: Registration | undefined
): Effect.Effect<unknown, StoredDataCorrupt> => {
  const { deployment } = snapshot
  const last = reg?.jobs[reg.jobs.length - 1]
  if (last === undefined) return Effect.succeed(deployment.output)
  return Effect.mapError(
    last.output.decode(deployment.output),
    (error) => corrupt(deployment.id, "output", error, last.job.name)
  )
}

/** The `DeploymentFailed` of a rolled-back deployment, rebuilt from its record and its error log. */
export const storedFailure = (
  store: DeploymentStoreShape,
  snapshot: Snapshot,
  reg: Registration | undefined
): Effect.Effect<DeploymentFailed, StoredDataCorrupt | PersistenceError> =>
  Effect.gen(function*() {
    const { deployment } = snapshot
    if (deployment.failure === undefined) {
      return yield* new StoredDataCorrupt({
        deploymentId: deployment.id,
        field: "failure",
        issue: "a rolled back deployment has no recorded failure"
      })
    }
    const failure = yield* Effect.mapError(decodeFailure(deployment.failure), (error) => corrupt(deployment.id, "failure", error))
    // A deployment that ended rolled back (after an operator retried its failed rollbacks, say) has none left.
    const rows = deployment.status === "rollback_failed" ? yield* store.errors(deployment.id) : []
    const rollbackFailures = rows
      .filter((row) => row.phase === "rollback")
      .map((row) => new RollbackFailure({ job: row.job ?? "", tag: row.tag, message: row.message.replace(/^rollback: /, "") }))
    const errorSchema = reg?.jobs.find((job) => job.job.name === failure.job)?.job.error
    const decoded = Option.isSome(failure.detail) && errorSchema !== undefined
      ? yield* Effect.option(jsonCodec(errorSchema).decode(failure.detail.value))
      : Option.none()
    const error = Option.getOrElse(decoded, (): unknown => failure)
    return new DeploymentFailed({
      deploymentId: deployment.id,
      application: deployment.application,
      action: deployment.action,
      status: deployment.status === "rollback_failed" ? "rollback_failed" : "rolled_back",
      job: failure.job,
      reason: failure.tag,
      failureMessage: failure.message,
      error,
      rollbackFailures
    })
  })
