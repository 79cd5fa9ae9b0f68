/**
 * The SQL store's checkpoints: one fenced statement per checkpoint when it is written alone, and one statement for
 * the checkpoints of many deployments when they arrive together (group commit, `groupCommit.ts`).
 *
 * A lone checkpoint is the deployment update (its job records, the `jobs` array, included), fenced in its `WHERE`
 * (`id`, `owner`, `lease_epoch`); one that appends errors is a data-modifying `WITH` statement: that update, then
 * the error inserts, which apply only when it matched.
 *
 * Checkpoints written together are one statement over a `jsonb` array of checkpoints (`sqlCheckpointBatch.ts`),
 * fenced per row, each fenced-out one told its own `LeaseLost`. A batch that fails for a reason that may be one
 * checkpoint's (`invalid`, `unknown`, `conflict`: bad data, a deadlock with another batch or a heartbeat) is written
 * again one checkpoint per statement, so that each gets its own answer.
 *
 * Inside `transaction` (transactional jobs), a checkpoint is always written alone, on the transaction's
 * connection, so that it commits with what the job wrote.
 *
 * @internal
 */
import { Effect, Option } from "effect"
import type { SqlClient } from "effect/sql"
import { type LeaseLost, PersistenceError } from "../ActionError.ts"
import type { Checkpoint, CheckpointResult, Fence } from "../DeploymentStore.ts"
import { leaseLost } from "./fences.ts"
import type { StatementDeps } from "./sqlColumns.ts"
import { makeGroupCommit } from "./groupCommit.ts"
import { allStorable, isUuid } from "./sqlParams.ts"
import { makeBatchWrite } from "./sqlCheckpointBatch.ts"
import type { Writes } from "./sqlWrites.ts"

/** How checkpoints are written together (`SqlDeploymentStore.Options.checkpointBatching`, once checked). */
export interface Batching {
  /** The most checkpoints in one statement; 1 writes each alone. */
  readonly maxBatch: number
  /** The most checkpoint statements in flight at once. */
  readonly writers: number
}

/** Everything the checkpoint statements need from the store. */
export interface CheckpointDeps extends StatementDeps {
  /** The client as given (its transaction service tells a checkpoint inside a transaction). */
  readonly client: SqlClient.SqlClient
  readonly writes: Writes
  readonly batching: Batching
}

/** Whether no stored lease can match `fence` (its id is not a UUID, its epoch not an integer, its owner unstorable). */
export const unmatchable = (fence: Fence): boolean =>
  !isUuid(fence.deploymentId) || !Number.isSafeInteger(fence.epoch) || !allStorable(fence.owner)

/** Builds the store's `checkpoint`. */
export const makeCheckpoints = (deps: CheckpointDeps) => {
  const { batching, columns, lockBound, run, sql, writes } = deps
  const deployments = sql(deps.tables.deployments)
  const { at } = columns

  /** The fenced update of one checkpoint's deployment row (its job records included), returning its stop flag. */
  const fencedUpdate = (checkpoint: Checkpoint) => {
    const { fence, deployment: patch } = checkpoint
    return sql`UPDATE ${deployments} AS d SET ${writes.patchAssignments(patch)},
    resumes = COALESCE(${patch.resumes ?? null}::integer, resumes),
    owner = CASE WHEN ${patch.releaseLease === true}::boolean THEN NULL ELSE owner END,
    lease_expires_at = CASE WHEN ${patch.releaseLease === true}::boolean THEN NULL ELSE lease_expires_at END,
    updated_at = ${at(checkpoint.at)}${writes.stopRequestAssignment(patch.stopRequest)}${
      writes.jobsAssignment(checkpoint.jobs)
    }
  WHERE id = ${fence.deploymentId}::uuid AND owner = ${fence.owner}::text AND lease_epoch = ${fence.epoch}::bigint
    AND ${lockBound}
  RETURNING id, stop_requested`
  }

  const one = (checkpoint: Checkpoint): Effect.Effect<CheckpointResult, LeaseLost | PersistenceError> =>
    Effect.flatMap(
      run("checkpoint", () =>
        // Most checkpoints append no error: theirs is the update alone, with nothing else to plan and run.
        checkpoint.errors.length === 0 ? fencedUpdate(checkpoint) : sql`WITH fenced AS (
  ${fencedUpdate(checkpoint)}
), appended AS (
  ${writes.errorInserts("fenced", checkpoint.errors)}
)
SELECT stop_requested FROM fenced`, (rows) => rows[0]?.stop_requested),
      (stopRequested) =>
        typeof stopRequested === "boolean"
          ? Effect.succeed({ stopRequested })
          : Effect.fail(leaseLost(checkpoint.fence))
    )

  const many = makeBatchWrite(deps)

  const together = makeGroupCommit<Checkpoint, CheckpointResult, LeaseLost | PersistenceError>({
    maxBatch: batching.maxBatch,
    writers: batching.writers,
    // A UUID in any letter case names one row: two checkpoints of it are never written in one statement.
    keyOf: (checkpoint) => checkpoint.fence.deploymentId.toLowerCase(),
    one,
    many,
    retryAlone: (error) => error._tag === "PersistenceError" && error.reason !== "connection" && error.reason !== "timeout"
  })
  const inTransaction = Effect.map(Effect.serviceOption(deps.client.transactionService), Option.isSome)

  return (checkpoint: Checkpoint): Effect.Effect<CheckpointResult, LeaseLost | PersistenceError> => {
    if (unmatchable(checkpoint.fence)) return Effect.fail(leaseLost(checkpoint.fence))
    if (batching.maxBatch <= 1) return one(checkpoint)
    return Effect.flatMap(inTransaction, (inside) => inside ? one(checkpoint) : together(checkpoint))
  }
}
