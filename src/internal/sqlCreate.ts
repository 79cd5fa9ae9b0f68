/**
 * The SQL store's `create`: one statement inserts the deployment row with its job records; when a deployment holds
 * the id or the key already (a repeated or a keyed create), a second one reads that deployment.
 *
 * @internal
 */
import { Effect } from "effect"
import { PersistenceError } from "../ActionError.ts"
import type { CreateResult, DeploymentStoreShape, Snapshot } from "../DeploymentStore.ts"
import type { StatementDeps } from "./sqlColumns.ts"
import { invalidTtl, jsonParam, ttlIssue, unstorableText } from "./sqlParams.ts"
import { decodeSnapshot } from "./sqlRows.ts"

/** Ids as the store writes them: lowercase UUIDs (PostgreSQL's `uuid` reads back lowercase). */
const lowercaseUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const created: CreateResult = { _tag: "Created" }

/** The statements of `create` (also planned by `test/SqlDeploymentStore.plans.test.ts`). */
export const makeCreateStatements = (
  deps: Pick<StatementDeps, "columns" | "leaseUntil" | "lockBound" | "sql" | "tables">
) => {
  const { columns, leaseUntil, lockBound, sql, tables } = deps
  const { at, snapshotColumns } = columns
  const deployments = sql(tables.deployments)

  /**
   * The deployment with this id or, failing that, this key (what a repeated or a keyed create finds). Each lookup is
   * an equality on a unique index of its own, never an `OR` of both: a plan the server caches for the statement while
   * the table is small can then never become a scan of the whole table as it grows.
   */
  const existingOf = (snapshot: Snapshot) => {
    const d = snapshot.deployment
    const byId = sql`SELECT 0 AS rank, ${snapshotColumns} FROM ${deployments} d WHERE d.id = ${d.id}::uuid`
    if (d.key === undefined) return byId
    return sql`SELECT * FROM (
  ${byId}
  UNION ALL
  SELECT 1 AS rank, ${snapshotColumns} FROM ${deployments} d
  WHERE d.application = ${d.application}::text AND d.action = ${d.action}::text AND d.key = ${d.key}::text
) AS found
ORDER BY rank
LIMIT 1`
  }

  /**
   * The insert alone: it returns the id when it inserted the row, nothing when a deployment holds the id or the key
   * already (then `existingOf` reads that one, in a statement of its own: the rare path).
   */
  const insertDeployment = (snapshot: Snapshot, ttl: number) => {
    const d = snapshot.deployment
    return sql`INSERT INTO ${deployments} (id, application, action, key, fingerprint, status, current_job, state,
    output, failure, owner, lease_expires_at, lease_epoch, stop_requested, resumes, parked, restart_of, request,
    created_at, updated_at, jobs)
  SELECT ${d.id}::uuid, ${d.application}::text, ${d.action}::text, ${d.key ?? null}::text, ${d.fingerprint}::text,
    ${d.status}::text, ${d.currentJob}::integer, ${jsonParam(d.state)}::jsonb, ${jsonParam(d.output)}::jsonb,
    ${jsonParam(d.failure)}::jsonb, ${d.owner ?? null}::text,
    CASE WHEN ${d.leaseExpiresAt !== undefined}::boolean THEN ${leaseUntil(ttl)} END, ${d.leaseEpoch}::bigint,
    ${d.stopRequested}::boolean, ${d.resumes}::integer, ${jsonParam(d.parked)}::jsonb, ${d.restartOf ?? null}::text,
    ${jsonParam(d.request)}::jsonb, ${at(d.createdAt)}, ${at(d.updatedAt)}, ${JSON.stringify(snapshot.jobs)}::jsonb
  FROM (SELECT 1) AS one WHERE ${lockBound}
  ON CONFLICT DO NOTHING
  RETURNING id`
  }

  return { insertDeployment, existingOf }
}

/** Builds the store's `create`. */
export const makeCreate = (deps: StatementDeps): DeploymentStoreShape["create"] => {
  const { run } = deps
  const { insertDeployment, existingOf } = makeCreateStatements(deps)
  return Effect.fnUntraced(function*(snapshot: Snapshot, options: { readonly leaseTtlMillis: number }) {
    const d = snapshot.deployment
    if (!lowercaseUuid.test(d.id)) {
      return yield* new PersistenceError({
        reason: "invalid",
        operation: "create",
        detail: `deployment ids must be lowercase UUIDs, got ${JSON.stringify(d.id.slice(0, 100))}`
      })
    }
    const issue = ttlIssue(options.leaseTtlMillis)
    if (issue !== undefined) return yield* invalidTtl("create", issue)
    const refused = unstorableText("create", {
      application: d.application,
      action: d.action,
      key: d.key,
      fingerprint: d.fingerprint,
      owner: d.owner,
      restartOf: d.restartOf
    })
    if (refused !== undefined) return yield* refused
    // At most three tries: the existing deployment of an id or a key can be committed while the insert waits for
    // it (then a second read finds it), or pruned between the insert and that read (then the insert is tried again).
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = yield* run("create", () => insertDeployment(snapshot, options.leaseTtlMillis), (rows) => rows)
      if (inserted.length > 0) return created
      const existing = yield* run("create", () => existingOf(snapshot), (rows) => rows.map(decodeSnapshot))
      if (existing[0] !== undefined) return { _tag: "Existing", snapshot: existing[0] } satisfies CreateResult
    }
    return yield* new PersistenceError({
      reason: "conflict",
      operation: "create",
      detail: "the deployment with this id or key was created and deleted concurrently; try again"
    })
  })
}
