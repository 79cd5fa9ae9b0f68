/**
 * The SQL store's writes fenced by a lease outside checkpoints (the error log and job data written while a job
 * runs), and `appendErrorOnce`, the one error-log write that needs no lease (recovery's reports).
 *
 * @internal
 */
import { Effect } from "effect"
import type { DeploymentStoreShape, Fence } from "../DeploymentStore.ts"
import { leaseLost } from "./fences.ts"
import { unmatchable } from "./sqlCheckpoints.ts"
import type { StatementDeps } from "./sqlColumns.ts"
import { isUuid, jsonParam, unstorableText } from "./sqlParams.ts"
import { decodeCount } from "./sqlRows.ts"
import type { Writes } from "./sqlWrites.ts"

/** Builds the store's error-log and job-data writes. */
export const makeJobWrites = (
  deps: StatementDeps & { readonly writes: Writes }
): Pick<DeploymentStoreShape, "appendErrors" | "setJobData" | "appendErrorOnce"> => {
  const { columns, lockBound, run, sql, tables, writes } = deps
  const { at } = columns
  const deployments = sql(tables.deployments)
  const jobData = sql(tables.jobData)
  const errors = sql(tables.errors)

  /** The deployment row, locked against a concurrent claim, while `fence` holds its lease. */
  const fencedRow = (fence: Fence) =>
    sql`SELECT d.id FROM ${deployments} d
WHERE d.id = ${fence.deploymentId}::uuid AND d.owner = ${fence.owner}::text AND d.lease_epoch = ${fence.epoch}::bigint
  AND ${lockBound}
FOR SHARE`

  return {
    appendErrors: (fence, entries) => {
      if (unmatchable(fence)) return Effect.fail(leaseLost(fence))
      return Effect.flatMap(
        run("appendErrors", () =>
          sql`WITH fenced AS (${fencedRow(fence)}), appended AS (
  ${writes.errorInserts("fenced", entries)}
)
SELECT 1 AS held FROM fenced`, (rows) => rows.length > 0),
        (held) => held ? Effect.void : Effect.fail(leaseLost(fence))
      )
    },

    setJobData: (fence, job, key, value) => {
      const refused = unstorableText("setJobData", { job, key })
      if (refused !== undefined) return Effect.fail(refused)
      if (unmatchable(fence)) return Effect.fail(leaseLost(fence))
      return Effect.flatMap(
        run("setJobData", () =>
          sql`WITH fenced AS (${fencedRow(fence)}), upserted AS (
  INSERT INTO ${jobData} (deployment_id, job, key, value)
  SELECT fenced.id, ${job}::text, ${key}::text, ${jsonParam(value)}::jsonb FROM fenced
  ON CONFLICT (deployment_id, job, key) DO UPDATE SET value = EXCLUDED.value
)
SELECT 1 AS held FROM fenced`, (rows) => rows.length > 0),
        (held) => held ? Effect.void : Effect.fail(leaseLost(fence))
      )
    },

    appendErrorOnce: (deploymentId, entry) => {
      const refused = unstorableText("appendErrorOnce", { job: entry.job, tag: entry.tag, message: entry.message })
      if (refused !== undefined) return Effect.fail(refused)
      return isUuid(deploymentId)
        ? run(
          "appendErrorOnce",
          () =>
            sql`WITH target AS (
  SELECT d.id FROM ${deployments} d WHERE d.id = ${deploymentId}::uuid AND ${lockBound}
), appended AS (
  INSERT INTO ${errors} (deployment_id, job, phase, tag, message, detail, at)
  SELECT target.id, ${entry.job ?? null}::text, ${entry.phase}::text, ${entry.tag}::text, ${entry.message}::text,
    ${jsonParam(entry.detail)}::jsonb, ${at(entry.at)}
  FROM target
  WHERE NOT EXISTS (
    SELECT 1 FROM ${errors} e WHERE e.deployment_id = target.id AND e.tag = ${entry.tag}::text
      AND e.message = ${entry.message}::text
  )
  RETURNING 1
)
SELECT count(*) AS count FROM appended`,
          (rows) => decodeCount(rows) > 0
        )
        : Effect.succeed(false)
    }
  }
}
