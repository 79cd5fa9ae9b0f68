/**
 * The SQL store's checkpoints written together: one statement for the checkpoints of many deployments, over a
 * `jsonb` array of them. The deployment update joins the array and is fenced per row by each checkpoint's own owner
 * and epoch (job records included, merged per row), and the error inserts read the rows it returned, so a
 * fenced-out checkpoint changes nothing and the others still apply. The statement returns the place of each
 * checkpoint that applied; each one not returned gets its own `LeaseLost`. `sqlCheckpoints.ts` decides when a
 * checkpoint goes out alone and when with others.
 *
 * @internal
 */
import { Effect, Exit } from "effect"
import { type LeaseLost, PersistenceError } from "../ActionError.ts"
import type { Checkpoint, CheckpointResult } from "../DeploymentStore.ts"
import type { CheckpointDeps } from "./sqlCheckpoints.ts"
import { leaseLost } from "./fences.ts"
import { patchesByIndex, placesOf } from "./sqlWrites.ts"

/** What a checkpoint is as one element of a batch's `jsonb` array (absent fields left out, so left as they are). */
const batchElement = (checkpoint: Checkpoint, ord: number) => {
  const { deployment: patch, fence } = checkpoint
  const jobs = patchesByIndex(checkpoint.jobs)
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
    stopRequest: patch.stopRequest,
    jobs,
    ...placesOf(jobs),
    errors: checkpoint.errors
  }
}

/**
 * The statement of checkpoints of distinct deployments written together (`makeBatchWrite`; also planned by
 * `test/SqlDeploymentStore.plans.test.ts`): it returns the place (`ord`) and stop flag of each checkpoint that applied.
 */
export const makeBatchStatement = (
  deps: Pick<CheckpointDeps, "columns" | "lockBound" | "sql" | "tables" | "writes">
) => {
  const { lockBound, sql, writes } = deps
  const deployments = sql(deps.tables.deployments)
  const { atJson } = deps.columns
  return (checkpoints: ReadonlyArray<Checkpoint>) => {
    // The elements in id order, so that two batches list their common rows alike. The plan decides the order the
    // rows are locked in (an index scan reads them in id order); a deadlock between two batches is retried alone.
    const order = checkpoints.map((_, i) => i).sort((a, b) =>
      checkpoints[a]!.fence.deploymentId < checkpoints[b]!.fence.deploymentId ? -1 : 1
    )
    const elements = order.map((i) => batchElement(checkpoints[i]!, i))
    // The ids again, as an array the planner can count: it then reads the rows through the primary key, where the
    // join alone (a function's rows, which it guesses at 100) was planned as a scan of the table up to a few thousand
    // pages. Every id is a UUID (`unmatchable` keeps the others out), so the literal needs no quoting.
    const ids = order.map((i) => checkpoints[i]!.fence.deploymentId)
    return sql`WITH input AS (
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
    updated_at = ${atJson("i.value->>'at'")}${
      checkpoints.some((checkpoint) => checkpoint.deployment.stopRequest !== undefined)
        ? writes.stopRequestAssignmentOfEach("i.value")
        : sql``
    },
    ${writes.jobsAssignmentOfEach("i.value")}
  FROM input AS i
  WHERE d.id = ANY(${`{${ids.join(",")}}`}::uuid[]) AND d.id = i.id AND d.owner = i.owner AND d.lease_epoch = i.epoch
    AND ${lockBound}
  RETURNING d.id, d.stop_requested, i.ord, i.value
), appended AS (
  ${writes.errorInsertsOfEach("fenced")}
)
SELECT ord, stop_requested FROM fenced`
  }
}

/** Builds the write of checkpoints of distinct deployments in one statement: each one's result, in order. */
export const makeBatchWrite = (deps: CheckpointDeps) => {
  const { run } = deps
  const statementOf = makeBatchStatement(deps)
  return (
    checkpoints: ReadonlyArray<Checkpoint>
  ): Effect.Effect<ReadonlyArray<Exit.Exit<CheckpointResult, LeaseLost | PersistenceError>>, PersistenceError> =>
    Effect.map(
      run("checkpoint", () => statementOf(checkpoints), (rows) => rows),
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
