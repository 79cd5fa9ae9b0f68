/**
 * The SQL store's deletes: `prune` (finished deployments, in bounded batches) and `discardCreated` (a deployment
 * whose create the runtime could not confirm, while it has not started its first job). A deployment's job data,
 * errors and history go with it (`ON DELETE CASCADE`).
 *
 * @internal
 */
import { Effect } from "effect"
import { PersistenceError } from "../ActionError.ts"
import type { DeploymentStoreShape } from "../DeploymentStore.ts"
import { unmatchable } from "./sqlCheckpoints.ts"
import type { StatementDeps } from "./sqlColumns.ts"
import { decodeCount } from "./sqlRows.ts"
import { terminalStatuses } from "./sqlTables.ts"

/** The store's delete statements. */
export const makeDeletes = (deps: StatementDeps): Pick<DeploymentStoreShape, "prune" | "discardCreated"> => {
  const { lockBound, run, sql } = deps
  const deployments = sql(deps.tables.deployments)
  const terminal = sql.literal(terminalStatuses)
  const { at } = deps.columns
  return {
    prune: (before, limit) => {
      if (!Number.isFinite(before)) {
        return Effect.fail(
          new PersistenceError({ reason: "invalid", operation: "prune", detail: `not a time: ${before}` })
        )
      }
      const batch = Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER)
      if (!(batch >= 1)) return Effect.succeed(0)
      return run(
        "prune",
        () =>
          // At most `limit` rows, oldest first; rows locked elsewhere are left for the next call.
          sql`WITH batch AS (
  SELECT d.id FROM ${deployments} d
  WHERE d.status IN ${terminal} AND d.request IS NULL AND d.updated_at < ${at(Math.floor(before))} AND ${lockBound}
  ORDER BY d.created_at, d.id
  LIMIT ${batch}::bigint
  FOR UPDATE SKIP LOCKED
), pruned AS (
  DELETE FROM ${deployments} d USING batch WHERE d.id = batch.id RETURNING 1
)
SELECT count(*) AS count FROM pruned`,
        decodeCount
      )
    },

    discardCreated: (fence) =>
      !unmatchable(fence)
        ? run(
          "discardCreated",
          () =>
            sql`WITH discarded AS (
  DELETE FROM ${deployments} d
  WHERE d.id = ${fence.deploymentId}::uuid AND d.owner = ${fence.owner}::text
    AND d.lease_epoch = ${fence.epoch}::bigint AND d.current_job = 0 AND d.status = 'running' AND ${lockBound}
    AND d.jobs->0->>'status' = 'running'
  RETURNING 1
)
SELECT count(*) AS count FROM discarded`,
          (rows) => decodeCount(rows) > 0
        )
        : Effect.succeed(false)
  }
}
