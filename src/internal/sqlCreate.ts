/**
 * The SQL store's `create`: one statement inserts the deployment row with its job records, or finds the deployment
 * that holds the id or the key already (a repeated or a keyed create).
 *
 * @internal
 */
import { Effect } from "effect"
import { PersistenceError } from "../ActionError.ts"
import type { CreateResult, DeploymentStoreShape, Snapshot } from "../DeploymentStore.ts"
import type { StatementDeps } from "./sqlColumns.ts"
import { invalidTtl, jsonParam, ttlIssue, unstorableText } from "./sqlParams.ts"
import { decodeCreateResult, decodeSnapshot } from "./sqlRows.ts"

/** Ids as the store writes them: lowercase UUIDs (PostgreSQL's `uuid` reads back lowercase). */
const lowercaseUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Builds the store's `create`. */
export const makeCreate = (deps: StatementDeps): DeploymentStoreShape["create"] => {
  const { columns, leaseUntil, lockBound, run, sql, tables } = deps
  const { at, snapshotColumns } = columns
  const deployments = sql(tables.deployments)

  /** The deployment with this id or, failing that, this key (what a repeated or a keyed create finds). */
  const existingOf = (snapshot: Snapshot) => {
    const d = snapshot.deployment
    return sql`SELECT ${snapshotColumns} FROM ${deployments} d
  WHERE d.id = ${d.id}::uuid
    OR (d.application = ${d.application}::text AND d.action = ${d.action}::text AND d.key = ${d.key ?? null}::text)
  ORDER BY (d.id = ${d.id}::uuid) DESC
  LIMIT 1`
  }

  const insertDeployment = (snapshot: Snapshot, ttl: number) => {
    const d = snapshot.deployment
    return sql`WITH inserted AS (
  INSERT INTO ${deployments} (id, application, action, key, fingerprint, status, current_job, state, output, failure,
    owner, lease_expires_at, lease_epoch, stop_requested, resumes, parked, restart_of, request, created_at,
    updated_at, jobs)
  SELECT ${d.id}::uuid, ${d.application}::text, ${d.action}::text, ${d.key ?? null}::text, ${d.fingerprint}::text,
    ${d.status}::text, ${d.currentJob}::integer, ${jsonParam(d.state)}::jsonb, ${jsonParam(d.output)}::jsonb,
    ${jsonParam(d.failure)}::jsonb, ${d.owner ?? null}::text,
    CASE WHEN ${d.leaseExpiresAt !== undefined}::boolean THEN ${leaseUntil(ttl)} END, ${d.leaseEpoch}::bigint,
    ${d.stopRequested}::boolean, ${d.resumes}::integer, ${jsonParam(d.parked)}::jsonb, ${d.restartOf ?? null}::text,
    ${jsonParam(d.request)}::jsonb, ${at(d.createdAt)}, ${at(d.updatedAt)}, ${JSON.stringify(snapshot.jobs)}::jsonb
  FROM (SELECT 1) AS one WHERE ${lockBound}
  ON CONFLICT DO NOTHING
  RETURNING id
)
SELECT EXISTS (SELECT 1 FROM inserted) AS created, existing.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (${existingOf(snapshot)}) AS existing ON NOT EXISTS (SELECT 1 FROM inserted)`
  }

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
      const result = yield* run("create", () => insertDeployment(snapshot, options.leaseTtlMillis), decodeCreateResult)
      if (result !== undefined) return result
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
