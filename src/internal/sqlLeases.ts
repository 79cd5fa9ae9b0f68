/**
 * The SQL store's leases: claiming runnable deployments (`FOR UPDATE SKIP LOCKED`), the heartbeat, releasing a
 * lease, and finding deployments of another version. Leases are set and judged on the database server's clock
 * (`serverNow`).
 *
 * @internal
 */
import { Effect } from "effect"
import type { ClaimRequest, DeploymentStoreShape } from "../DeploymentStore.ts"
import type { StatementDeps } from "./sqlColumns.ts"
import { unmatchable } from "./sqlCheckpoints.ts"
import { allStorable, invalidTtl, isUuid, storableRunnable, ttlIssue, unstorableText } from "./sqlParams.ts"
import { decodeDeployment, decodeHeldLease, decodeSnapshot } from "./sqlRows.ts"
import { activeStatuses } from "./sqlTables.ts"

/**
 * The claim's statement (also planned by `test/SqlDeploymentStore.plans.test.ts`): the runnable deployments whose
 * lease expired (or was released), oldest expiry first, locked with `SKIP LOCKED` so that processes claiming
 * together take different ones, taken over with the next epoch.
 */
export const makeClaimStatement = (
  deps: Pick<StatementDeps, "columns" | "leaseUntil" | "serverNow" | "sql" | "tables">
) => {
  const { leaseUntil, serverNow, sql } = deps
  const deployments = sql(deps.tables.deployments)
  const active = sql.literal(activeStatuses)
  const { runnableKeys, runnableRows, snapshotColumns } = deps.columns
  return (request: ClaimRequest) =>
    sql`WITH candidates AS (
  SELECT d.id, d.lease_expires_at AS previous_expiry FROM ${deployments} d
  WHERE d.status IN ${active} AND d.parked IS NULL AND ${runnableKeys(request.runnable)}
    AND (d.application, d.action, d.fingerprint) IN (
      SELECT r.application, r.action, r.fingerprint
      FROM ${runnableRows(request.runnable)}
    )
    AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ${serverNow})
  ORDER BY d.lease_expires_at NULLS FIRST, d.created_at, d.id
  LIMIT ${Math.min(Math.floor(request.limit), Number.MAX_SAFE_INTEGER)}::bigint
  FOR UPDATE OF d SKIP LOCKED
), claimed AS (
  UPDATE ${deployments} AS d
  SET owner = ${request.owner}::text, lease_epoch = d.lease_epoch + 1, resumes = d.resumes + 1,
    lease_expires_at = ${leaseUntil(request.leaseTtlMillis)}
  FROM candidates c WHERE d.id = c.id
  RETURNING d.*, c.previous_expiry
)
SELECT ${snapshotColumns} FROM claimed d ORDER BY d.previous_expiry NULLS FIRST, d.created_at, d.id`
}

/** `claim`: the request checked, then its statement (`makeClaimStatement`). */
const makeClaim = (deps: StatementDeps): DeploymentStoreShape["claim"] => {
  const statementOf = makeClaimStatement(deps)
  return (request) => {
    const runnable = storableRunnable(request.runnable)
    if (runnable.length === 0 || !(request.limit >= 1)) return Effect.succeed([])
    const issue = ttlIssue(request.leaseTtlMillis)
    if (issue !== undefined) return Effect.fail(invalidTtl("claim", issue))
    const refused = unstorableText("claim", { owner: request.owner })
    if (refused !== undefined) return Effect.fail(refused)
    return deps.run("claim", () => statementOf({ ...request, runnable }), (rows) => rows.map(decodeSnapshot))
  }
}

/**
 * The heartbeat's statement (also planned by `test/SqlDeploymentStore.plans.test.ts`): renews the leases of `ids`
 * (UUIDs) that `owner` holds.
 */
export const makeHeartbeatStatement = (deps: Pick<StatementDeps, "leaseUntil" | "lockBound" | "sql" | "tables">) => {
  const { leaseUntil, lockBound, sql } = deps
  const deployments = sql(deps.tables.deployments)
  const active = sql.literal(activeStatuses)
  return (ids: ReadonlyArray<string>, owner: string, leaseTtlMillis: number) =>
    // The ids as an array, never `id IN (subquery)` nor a join with the list: for an owner the planner's statistics
    // do not know yet (any process that just took deployments over), the IN form was planned as a semi-join scanning
    // the whole id list per row, quadratic in the leases held (37 s for 10,000; see docs/benchmarks.md), and a join
    // can be planned the same way. An array it can count is read through the primary key.
    sql`UPDATE ${deployments} AS d SET lease_expires_at = ${leaseUntil(leaseTtlMillis)}
WHERE d.id = ANY(${`{${ids.join(",")}}`}::uuid[]) AND d.owner = ${owner}::text AND d.status IN ${active}
  AND ${lockBound}
RETURNING d.id::text AS id, d.lease_epoch, d.stop_requested`
}

/** The store's lease statements. */
export const makeLeases = (deps: StatementDeps): Pick<
  DeploymentStoreShape,
  "claim" | "heartbeat" | "release" | "findMismatched"
> => {
  const { lockBound, run, serverNow, sql } = deps
  const deployments = sql(deps.tables.deployments)
  const active = sql.literal(activeStatuses)
  const { at, deploymentColumns, runnableKeys, runnableRows } = deps.columns
  const heartbeatOf = makeHeartbeatStatement(deps)
  return {
    claim: makeClaim(deps),

    heartbeat: (request) => {
      const ids = request.deploymentIds.filter(isUuid)
      if (ids.length === 0 || !allStorable(request.owner)) return Effect.succeed([])
      const issue = ttlIssue(request.leaseTtlMillis)
      if (issue !== undefined) return Effect.fail(invalidTtl("heartbeat", issue))
      return run("heartbeat", () => heartbeatOf(ids, request.owner, request.leaseTtlMillis), (rows) =>
        rows.map(decodeHeldLease))
    },

    release: (fence, releaseAt) =>
      !unmatchable(fence)
        ? run(
          "release",
          () =>
            sql`UPDATE ${deployments} SET owner = NULL, lease_expires_at = ${serverNow}, updated_at = ${at(releaseAt)}
WHERE id = ${fence.deploymentId}::uuid AND owner = ${fence.owner}::text AND lease_epoch = ${fence.epoch}::bigint
  AND ${lockBound}`,
          () => undefined
        )
        : Effect.void,

    findMismatched: (request) => {
      const runnable = storableRunnable(request.runnable)
      if (runnable.length === 0 || !(request.limit >= 1)) return Effect.succeed([])
      return run(
        "findMismatched",
        () =>
          sql`SELECT ${deploymentColumns} FROM ${deployments} d
WHERE d.status IN ${active} AND d.parked IS NULL AND ${runnableKeys(runnable)}
  AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ${serverNow})
  AND EXISTS (
    SELECT 1 FROM ${runnableRows(runnable)}
    WHERE r.application = d.application AND r.action = d.action AND r.fingerprint <> d.fingerprint
  )
ORDER BY d.created_at, d.id
LIMIT ${Math.min(Math.floor(request.limit), Number.MAX_SAFE_INTEGER)}::bigint`,
        (rows) => rows.map(decodeDeployment)
      )
    }
  }
}
