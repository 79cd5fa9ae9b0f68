/**
 * The statements of the SQL deployment store for operators' operations: stop requests and takeovers (the requested
 * operations and the history are in `sqlRequests.ts`).
 *
 * Each operation is one statement, so one implicit transaction: its condition (the compare-and-set of `takeOver`,
 * the open request of `recordOperation`) is in the `WHERE` of its `UPDATE`, and the history entry it appends (an
 * `INSERT` of the same `WITH` statement) is written only when that update matched. Under concurrent writers, an
 * update that waited for the row lock re-checks its condition on the row as committed; the statement's own read of
 * the row (what it reports when the update did not apply) may still show the row as before, and the statement is
 * then run again (see `retried`).
 *
 * @internal
 */
import { Effect } from "effect"
import type { SqlClient, Statement } from "effect/sql"
import { PersistenceError } from "../ActionError.ts"
import type { DeploymentRow, NewHistoryRow, StopResult, TakeOver, TakeOverResult } from "../DeploymentStore.ts"
import type { Columns } from "./sqlColumns.ts"
import { invalidTtl, isUuid, ttlIssue } from "./sqlParams.ts"
import { decodeStopResult, decodeTakeOverResult } from "./sqlRows.ts"
import type { Run } from "./sqlRun.ts"
import type { Tables } from "./sqlTables.ts"
import { unstorableValue } from "./storable.ts"
import type { Writes } from "./sqlWrites.ts"

/** What the operations' statements need of the store. */
export interface OperationContext {
  readonly sql: SqlClient.SqlClient
  readonly tables: Tables
  readonly run: Run
  readonly columns: Columns
  readonly writes: Writes
  /** The condition that sets the statement's `lock_timeout` (see `SqlDeploymentStore`). */
  readonly lockBound: Statement.Fragment
  /** The lease expiry `ttl` milliseconds after the server's now. */
  readonly leaseUntil: (ttl: number) => Statement.Fragment
  /** The `NOTIFY` channel of stop requests. */
  readonly stopChannel: string
}

/** How many times a statement is run when its own read saw the row as it was before a concurrent commit. */
const attempts = 3

/**
 * Runs `statement` until it gives an answer (`undefined` means: the row changed concurrently, ask again), at most
 * `attempts` times; then fails with reason `conflict` (transient: the runtime tries again).
 */
export const retried = <A>(
  operation: string,
  statement: Effect.Effect<A | undefined, PersistenceError>
): Effect.Effect<A, PersistenceError> =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const result = yield* statement
      if (result !== undefined) return result
    }
    return yield* new PersistenceError({
      reason: "conflict",
      operation,
      detail: "the deployment changed concurrently; try again"
    })
  })

/** The store's `requestStop`: the stop flag set on a running deployment, and its owner told. */
const makeRequestStop = (context: OperationContext) => {
  const { columns, lockBound, run, sql, stopChannel, tables, writes } = context
  const deployments = sql(tables.deployments)
  const { at } = columns
  return (
    deploymentId: string,
    stopAt: number,
    entry?: NewHistoryRow
  ): Effect.Effect<StopResult, PersistenceError> => {
    const refused = entry === undefined ? undefined : unstorableValue("requestStop", entry)
    if (refused !== undefined) return Effect.fail(refused)
    if (!isUuid(deploymentId)) return Effect.succeed({ _tag: "NotFound" })
    const recorded = entry === undefined ? sql`` : sql`, recorded AS (
  ${writes.historyInsert("stopped", entry)}
)`
    // Another try only when the deployment left `running` while the update waited for its row lock (the
    // statement's own read then still sees it running).
    return retried(
      "requestStop",
      run(
        "requestStop",
        () =>
          sql`WITH stopped AS (
  UPDATE ${deployments} SET stop_requested = true, updated_at = ${at(stopAt)}
  WHERE id = ${deploymentId}::uuid AND status = 'running' AND parked IS NULL AND ${lockBound}
  RETURNING id, owner
)${recorded}
SELECT true AS stopped, s.owner, NULL::text AS status, NULL::text AS parked,
  (SELECT true FROM (SELECT pg_notify(${stopChannel}::text, s.id::text)) AS notified) AS notified
FROM stopped s
UNION ALL
SELECT false, NULL, d.status, d.parked::text, false FROM ${deployments} d
WHERE d.id = ${deploymentId}::uuid AND NOT EXISTS (SELECT 1 FROM stopped)`,
        decodeStopResult
      )
    )
  }
}

/** The store's `takeOver`: an operator's compare-and-set of a deployment, with its new lease. */
const makeTakeOver = (context: OperationContext) => {
  const { columns, leaseUntil, lockBound, run, sql, tables, writes } = context
  const deployments = sql(tables.deployments)
  const { at, deploymentColumns, snapshotColumns } = columns
  return (request: TakeOver): Effect.Effect<TakeOverResult, PersistenceError> => {
    const issue = ttlIssue(request.leaseTtlMillis)
    if (issue !== undefined) return Effect.fail(invalidTtl("takeOver", issue))
    const refused = unstorableValue("takeOver", request)
    if (refused !== undefined) return Effect.fail(refused)
    if (!isUuid(request.deploymentId)) return Effect.succeed({ _tag: "NotFound" })
    const { deploymentId, expect } = request
    // an epoch that is not an integer matches no stored one
    const epoch = Number.isSafeInteger(expect.leaseEpoch) ? expect.leaseEpoch : null
    const expected = (row: DeploymentRow) =>
      row.status === expect.status && row.leaseEpoch === expect.leaseEpoch && row.parked === undefined &&
      row.request?.id === expect.requestId
    return retried(
      "takeOver",
      run(
        "takeOver",
        () =>
          sql`WITH taken AS (
  UPDATE ${deployments} AS d SET ${writes.patchAssignments(request.deployment)},
    owner = ${request.owner}::text, lease_epoch = d.lease_epoch + 1,
    lease_expires_at = ${leaseUntil(request.leaseTtlMillis)}, resumes = 0, stop_requested = false, request = NULL,
    updated_at = ${at(request.at)}${writes.jobsAssignment(request.jobs)}
  WHERE d.id = ${deploymentId}::uuid AND d.status = ${expect.status}::text AND d.lease_epoch = ${epoch}::bigint
    AND d.parked IS NULL AND (d.request->>'id') IS NOT DISTINCT FROM ${expect.requestId ?? null}::text
    AND ${lockBound}
  RETURNING d.*
), appended AS (
  ${writes.errorInserts("taken", request.errors)}
), recorded AS (
  ${writes.historyInsert("taken", request.history)}
)
SELECT true AS taken, ${snapshotColumns}
FROM taken d
UNION ALL
SELECT false, ${deploymentColumns}, NULL FROM ${deployments} d
WHERE d.id = ${deploymentId}::uuid AND NOT EXISTS (SELECT 1 FROM taken)`,
        (rows) => decodeTakeOverResult(rows, expected)
      )
    )
  }
}

/** Builds the operations for one store. */
export const makeOperations = (context: OperationContext) => ({
  requestStop: makeRequestStop(context),
  takeOver: makeTakeOver(context)
})
