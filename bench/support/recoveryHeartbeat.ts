/**
 * The heartbeat of `bench/recovery.ts`, measured on a copy of the crashed database where one owner holds every
 * deployment: the store's own `heartbeat` call timed through the client, the same statement under
 * `EXPLAIN (ANALYZE, BUFFERS, WAL)`, and the statement the store used before commit d4d3c64 (`id IN (subquery)`,
 * quadratic for an owner the statistics do not know); plus the store's `claim`, timed.
 *
 * Whether the planner knows the owner matters: `owner = $2` is estimated from the column statistics, and an owner
 * that was not there when the table was last analyzed (every process started since, so every process that just
 * took deployments over) is estimated at a handful of rows. `handOver` gives every deployment to such an owner.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { SqlDeploymentStore } from "../../src/index.ts"
import { fingerprint, tablePrefix } from "./recoveryAction.ts"
import { query, table } from "./recoveryDatabase.ts"

/** The deployment ids `owner` holds. */
export const heldBy = (owner: string): Effect.Effect<ReadonlyArray<string>, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* query(
      sql<{ id: string }>`SELECT id::text AS id FROM ${table(sql, "deployments")} WHERE owner = ${owner}::text`
    )
    return rows.map((row) => row.id)
  })

/** Gives every deployment to `owner`, without analyzing the table again (the planner does not know `owner`). */
export const handOver = (owner: string): Effect.Effect<void, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* query(sql`UPDATE ${table(sql, "deployments")} SET owner = ${owner}::text`)
  })

/** The store's `heartbeat` (the runtime's call, unchanged), timed from the call to the decoded rows. */
export const timedHeartbeat = (
  owner: string,
  ids: ReadonlyArray<string>,
  leaseTtlMillis: number
): Effect.Effect<{ readonly millis: number; readonly held: number }, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const store = yield* Effect.orDie(SqlDeploymentStore.make({ prefix: tablePrefix }))
    const started = performance.now()
    const held = yield* Effect.orDie(store.heartbeat({ owner, now: Date.now(), leaseTtlMillis, deploymentIds: ids }))
    return { millis: performance.now() - started, held: held.length }
  })

/** One pass of the store's `claim` (batch `limit`) by `owner`, timed; returns how many it claimed. */
export const timedClaim = (
  owner: string,
  limit: number,
  leaseTtlMillis: number
): Effect.Effect<{ readonly millis: number; readonly claimed: number }, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const store = yield* Effect.orDie(SqlDeploymentStore.make({ prefix: tablePrefix }))
    const started = performance.now()
    const claimed = yield* Effect.orDie(store.claim({
      owner,
      now: Date.now(),
      leaseTtlMillis,
      limit,
      runnable: [{ application: "default", action: "recovery-5", fingerprint }]
    }))
    return { millis: performance.now() - started, claimed: claimed.length }
  })

/** Makes every lease expired, as if its owner had stopped renewing it long ago. */
export const expireAll: Effect.Effect<void, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* query(sql`UPDATE ${table(sql, "deployments")} SET lease_expires_at = now() - interval '1 minute'`)
})

/** Wall-clock time of `SELECT 1`, in ms: the round trip every statement pays. */
export const roundTrip: Effect.Effect<number, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const started = performance.now()
  yield* query(sql`SELECT 1 AS one`)
  return performance.now() - started
})

// ---------------------------------------------------------------------------------------------------------------
// EXPLAIN

/** What `EXPLAIN` says about one statement (times and counts are 0 without `ANALYZE`). */
export interface Explained {
  readonly planningMillis: number
  readonly executionMillis: number
  readonly rows: number
  readonly walBytes: number
  readonly walRecords: number
  readonly walFullPages: number
  readonly sharedHit: number
  readonly sharedRead: number
  readonly sharedDirtied: number
  /** The plan's nodes, outermost first, children in parentheses. */
  readonly shape: string
}

type PlanNode = Record<string, unknown> & { readonly Plans?: ReadonlyArray<PlanNode> }

const planShape = (node: PlanNode): string => {
  const name = [node["Node Type"], node["Join Type"], node["Index Name"]].filter((part) => part !== undefined)
    .join(" ")
  const children = (node.Plans ?? []).map(planShape)
  return children.length === 0 ? name : `${name} (${children.join(", ")})`
}

const explainedOf = (row: Record<string, unknown> | undefined): Explained => {
  const cell = Object.values(row ?? {})[0]
  const parsed = (typeof cell === "string" ? JSON.parse(cell) : cell) as ReadonlyArray<Record<string, unknown>>
  const top = parsed[0]!
  const plan = top["Plan"] as PlanNode
  const number = (key: string) => Number(plan[key] ?? 0)
  return {
    planningMillis: Number(top["Planning Time"] ?? 0),
    executionMillis: Number(top["Execution Time"] ?? 0),
    rows: number("Actual Rows"),
    walBytes: number("WAL Bytes"),
    walRecords: number("WAL Records"),
    walFullPages: number("WAL FPI"),
    sharedHit: number("Shared Hit Blocks"),
    sharedRead: number("Shared Read Blocks"),
    sharedDirtied: number("Shared Dirtied Blocks"),
    shape: planShape(plan)
  }
}

/**
 * The two ways of writing the renewal: `join`, the id list joined in `FROM` (the text of `SqlDeploymentStore`'s
 * heartbeat since commit d4d3c64), and `in`, `id IN (SELECT jsonb_array_elements_text($ids)::uuid)` (its text
 * before).
 */
export type HeartbeatForm = "join" | "in"

/**
 * The heartbeat UPDATE of `owner` over `ids` in one of its forms, under `EXPLAIN` (with `ANALYZE, BUFFERS, WAL`
 * when `analyze`, which runs it: it renews the leases, as a heartbeat does).
 */
export const explainHeartbeat = (
  form: HeartbeatForm,
  owner: string,
  ids: ReadonlyArray<string>,
  leaseTtlMillis: number,
  analyze: boolean
): Effect.Effect<Explained, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const deployments = table(sql, "deployments")
    const options = sql.literal(analyze ? "(ANALYZE, BUFFERS, WAL, FORMAT JSON)" : "(FORMAT JSON)")
    const expiry = sql`(timestamptz 'epoch' + ${Date.now() + leaseTtlMillis}::bigint * interval '1 millisecond')`
    const idList = JSON.stringify(ids)
    const [row] = yield* query(
      form === "in"
        ? sql<Record<string, unknown>>`EXPLAIN ${options}
UPDATE ${deployments} SET lease_expires_at = ${expiry}
WHERE id IN (SELECT jsonb_array_elements_text(${idList}::jsonb)::uuid)
  AND owner = ${owner}::text AND status IN ('running', 'rolling_back')
RETURNING id::text AS id, lease_epoch, stop_requested`
        : sql<Record<string, unknown>>`EXPLAIN ${options}
UPDATE ${deployments} AS d SET lease_expires_at = ${expiry}
FROM jsonb_array_elements_text(${idList}::jsonb) AS held(id)
WHERE d.id = held.id::uuid AND d.owner = ${owner}::text AND d.status IN ('running', 'rolling_back')
RETURNING d.id::text AS id, d.lease_epoch, d.stop_requested`
    )
    return explainedOf(row)
  })
