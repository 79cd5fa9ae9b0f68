/**
 * The SQL store's reads by id: a deployment with its jobs, its status, its error log, its job data, and the counts
 * per status. An id that is not a UUID (or a name PostgreSQL cannot hold) names nothing stored: the read finds
 * nothing, without a statement.
 *
 * @internal
 */
import { Effect, Option } from "effect"
import type { DeploymentStoreShape, StatusCounts } from "../DeploymentStore.ts"
import { millis, type StatementDeps } from "./sqlColumns.ts"
import { allStorable, isUuid } from "./sqlParams.ts"
import {
  decodeCounts,
  decodeError,
  decodeJobDataRow,
  decodeJsonValue,
  decodeSnapshot,
  decodeStatus
} from "./sqlRows.ts"
import { countedStatuses } from "./sqlTables.ts"


/**
 * `counts`: one bounded count per status, each read from the status index (or the filters' index): at most `limit`
 * rows per status, however many deployments there are.
 */
const makeCounts = (deps: StatementDeps): DeploymentStoreShape["counts"] => (query) => {
  const { run, sql } = deps
  const deployments = sql(deps.tables.deployments)
  const limit = Math.min(Math.floor(query.limit), Number.MAX_SAFE_INTEGER - 1)
  const zero = Object.fromEntries(countedStatuses.map((status) => [status, 0])) as StatusCounts
  if (!(limit >= 1) || !allStorable(query.application, query.action)) return Effect.succeed(zero)
  const conditions = [
    ...(query.application === undefined ? [] : [sql`d.application = ${query.application}::text`]),
    ...(query.action === undefined ? [] : [sql`d.action = ${query.action}::text`])
  ]
  const counted = countedStatuses.map((status) =>
    sql`SELECT ${sql.literal(`'${status}'`)} AS status, count(*)::integer AS count FROM (
  SELECT 1 FROM ${deployments} d WHERE d.status = ${sql.literal(`'${status}'`)} AND ${sql.and(conditions)}
  LIMIT ${limit}::bigint
) AS s`
  )
  return run("counts", () => sql`${sql.join(" UNION ALL ", false)(counted)}`, (rows) => decodeCounts(rows, zero))
}

/** The store's reads. */
export const makeReads = (deps: StatementDeps): Pick<
  DeploymentStoreShape,
  "getJobData" | "get" | "status" | "errors" | "counts" | "jobData"
> => {
  const { run, sql } = deps
  const deployments = sql(deps.tables.deployments)
  const jobData = sql(deps.tables.jobData)
  const errors = sql(deps.tables.errors)
  const { snapshotColumns } = deps.columns
  return {
    getJobData: (deploymentId, job, key) =>
      isUuid(deploymentId) && allStorable(job, key)
        ? run(
          "getJobData",
          () =>
            sql`SELECT value::text AS value FROM ${jobData}
WHERE deployment_id = ${deploymentId}::uuid AND job = ${job}::text AND key = ${key}::text`,
          (rows) => rows[0] === undefined ? Option.none() : Option.some(decodeJsonValue(rows[0]))
        )
        : Effect.succeed(Option.none()),

    get: (deploymentId) =>
      isUuid(deploymentId)
        ? run(
          "get",
          () => sql`SELECT ${snapshotColumns} FROM ${deployments} d WHERE d.id = ${deploymentId}::uuid`,
          (rows) => rows[0] === undefined ? Option.none() : Option.some(decodeSnapshot(rows[0]))
        )
        : Effect.succeed(Option.none()),

    status: (deploymentId) =>
      isUuid(deploymentId)
        ? run(
          "status",
          () =>
            sql`SELECT d.id::text AS id, d.application, d.action, d.status, d.parked::text AS parked,
  ${sql.literal(millis("d.updated_at"))} AS updated_at
FROM ${deployments} d WHERE d.id = ${deploymentId}::uuid`,
          (rows) => rows[0] === undefined ? Option.none() : Option.some(decodeStatus(rows[0]))
        )
        : Effect.succeed(Option.none()),

    errors: (deploymentId, job) =>
      isUuid(deploymentId) && allStorable(job)
        ? run(
          "errors",
          () =>
            sql`SELECT e.sequence, e.job, e.phase, e.tag, e.message, e.detail::text AS detail,
  ${sql.literal(millis("e.at"))} AS at
FROM ${errors} e WHERE e.deployment_id = ${deploymentId}::uuid${
              job === undefined ? sql`` : sql` AND e.job = ${job}::text`
            } ORDER BY e.sequence`,
          (rows) => rows.map(decodeError)
        )
        : Effect.succeed([]),

    counts: makeCounts(deps),

    jobData: (deploymentId) =>
      isUuid(deploymentId)
        ? run(
          "jobData",
          () =>
            sql`SELECT job, key, value::text AS value FROM ${jobData}
WHERE deployment_id = ${deploymentId}::uuid ORDER BY job, key`,
          (rows) => rows.map(decodeJobDataRow)
        )
        : Effect.succeed([])
  }
}
