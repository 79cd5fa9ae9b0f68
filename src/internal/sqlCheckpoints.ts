/**
 * The SQL store's checkpoints: one fenced statement per checkpoint when it is written alone, and one statement for
 * the checkpoints of many deployments when they arrive together (group commit, `groupCommit.ts`).
 *
 * A lone checkpoint is the deployment update (its job records, the `jobs` array, included), fenced in its `WHERE`
 * (`id`, `owner`, `lease_epoch`); one that appends errors is a data-modifying `WITH` statement: that update, then
 * the error inserts, which apply only when it matched.
 *
 * Checkpoints written together are one statement of the same shape over a `jsonb` array of checkpoints: the
 * deployment update joins the array and is fenced per row by each checkpoint's own owner and epoch, and the error
 * inserts read the rows it returned, so a fenced-out checkpoint changes nothing and the others
 * still apply. The statement returns the place of each checkpoint that applied; each one not returned gets its own
 * `LeaseLost`. A batch that fails for a reason that may be one checkpoint's (`invalid`, `unknown`, `conflict`: bad
 * data, a deadlock with another batch or a heartbeat) is written again one checkpoint per statement, so that each
 * gets its own answer.
 *
 * Inside `transaction` (transactional jobs), a checkpoint is always written alone, on the transaction's
 * connection, so that it commits with what the job wrote.
 *
 * @internal
 */
import { Effect, Exit, Option } from "effect"
import type { SqlClient } from "effect/sql"
import { type LeaseLost, PersistenceError } from "../ActionError.ts"
import type { Checkpoint, CheckpointResult, Fence } from "../DeploymentStore.ts"
import { leaseLost } from "./fences.ts"
import type { StatementDeps } from "./sqlColumns.ts"
import { makeGroupCommit } from "./groupCommit.ts"
import { allStorable, isUuid } from "./sqlParams.ts"
import { patchesByIndex, type Writes } from "./sqlWrites.ts"

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

/** What a checkpoint is as one element of a batch's `jsonb` array (absent fields left out, so left as they are). */
const batchElement = (checkpoint: Checkpoint, ord: number) => {
  const { deployment: patch, fence } = checkpoint
  return {
    ord,
    id: fence.deploymentId,
    owner: fence.owner,
    epoch: fence.epoch,
    at: checkpoint.at,
    status: patch.status,
    currentJob: patch.currentJob,
    state: patch.state,
    output: patch.output,
    failure: patch.failure,
    parked: patch.parked,
    resumes: patch.resumes,
    release: patch.releaseLease === true,
    jobs: patchesByIndex(checkpoint.jobs),
    errors: checkpoint.errors
  }
}

/** Builds the store's `checkpoint`. */
export const makeCheckpoints = (deps: CheckpointDeps) => {
  const { batching, columns, lockBound, run, sql, writes } = deps
  const deployments = sql(deps.tables.deployments)
  const { at, atJson } = columns

  /** The fenced update of one checkpoint's deployment row (its job records included), returning its stop flag. */
  const fencedUpdate = (checkpoint: Checkpoint) => {
    const { fence, deployment: patch } = checkpoint
    return sql`UPDATE ${deployments} AS d SET ${writes.patchAssignments(patch)},
    resumes = COALESCE(${patch.resumes ?? null}::integer, resumes),
    owner = CASE WHEN ${patch.releaseLease === true}::boolean THEN NULL ELSE owner END,
    lease_expires_at = CASE WHEN ${patch.releaseLease === true}::boolean THEN NULL ELSE lease_expires_at END,
    updated_at = ${at(checkpoint.at)}${writes.jobsAssignment(checkpoint.jobs)}
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

  /** The checkpoints of distinct deployments in one statement: each one's result, in order. */
  const many = (
    checkpoints: ReadonlyArray<Checkpoint>
  ): Effect.Effect<ReadonlyArray<Exit.Exit<CheckpointResult, LeaseLost | PersistenceError>>, PersistenceError> => {
    // Rows are locked in id order (the array's order), so two batches lock their common rows in the same order.
    const order = checkpoints.map((_, i) => i).sort((a, b) =>
      checkpoints[a]!.fence.deploymentId < checkpoints[b]!.fence.deploymentId ? -1 : 1
    )
    const elements = order.map((i) => batchElement(checkpoints[i]!, i))
    return Effect.map(
      run("checkpoint", () =>
        sql`WITH input AS (
  SELECT (c.value->>'ord')::integer AS ord, (c.value->>'id')::uuid AS id, c.value->>'owner' AS owner,
    (c.value->>'epoch')::bigint AS epoch, c.value
  FROM jsonb_array_elements(${JSON.stringify(elements)}::jsonb) AS c(value)
), fenced AS (
  UPDATE ${deployments} AS d SET
    status = COALESCE(i.value->>'status', d.status),
    current_job = COALESCE((i.value->>'currentJob')::integer, d.current_job),
    state = COALESCE(i.value->'state', d.state),
    output = COALESCE(i.value->'output', d.output),
    failure = CASE WHEN i.value->'failure' = 'null'::jsonb THEN NULL ELSE COALESCE(i.value->'failure', d.failure) END,
    parked = COALESCE(i.value->'parked', d.parked),
    resumes = COALESCE((i.value->>'resumes')::integer, d.resumes),
    owner = CASE WHEN (i.value->>'release')::boolean THEN NULL ELSE d.owner END,
    lease_expires_at = CASE WHEN (i.value->>'release')::boolean THEN NULL ELSE d.lease_expires_at END,
    updated_at = ${atJson("i.value->>'at'")},
    ${writes.jobsAssignmentOfEach("i.value")}
  FROM input AS i
  WHERE d.id = i.id AND d.owner = i.owner AND d.lease_epoch = i.epoch AND ${lockBound}
  RETURNING d.id, d.stop_requested, i.ord, i.value
), appended AS (
  ${writes.errorInsertsOfEach("fenced")}
)
SELECT ord, stop_requested FROM fenced`, (rows) => rows),
      (rows) => {
        // Never a throw here: the batch has committed, and a batch that fails is written again one by one.
        const stopRequested = new Map<number, boolean>()
        for (const row of rows) {
          if (typeof row.ord === "number" && typeof row.stop_requested === "boolean") {
            stopRequested.set(row.ord, row.stop_requested)
          } else {
            const unreadable = new PersistenceError({
              reason: "unknown",
              operation: "checkpoint",
              detail: `the checkpoints were written, but the database answered an unexpected row: ${
                JSON.stringify(row).slice(0, 200)
              }`
            })
            return checkpoints.map(() => Exit.fail(unreadable))
          }
        }
        return checkpoints.map((checkpoint, i) => {
          const stop = stopRequested.get(i)
          return stop === undefined ? Exit.fail(leaseLost(checkpoint.fence)) : Exit.succeed({ stopRequested: stop })
        })
      }
    )
  }

  const together = makeGroupCommit<Checkpoint, CheckpointResult, LeaseLost | PersistenceError>({
    maxBatch: batching.maxBatch,
    writers: batching.writers,
    keyOf: (checkpoint) => checkpoint.fence.deploymentId,
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
