/**
 * The write fragments the deployment store's statements share: the assignments of a deployment patch, the update of
 * job records by job patches, and the inserts of error and history entries. `checkpoint` and `takeOver` apply the
 * same patches, `checkpoint`, `appendErrors` and `takeOver` append errors the same way.
 *
 * Each fragment that writes for a deployment reads its id from a row source named by the caller (`source`, the
 * name of an earlier `WITH` query returning `id`), so that it writes only when that query matched: a fenced update,
 * a compare-and-set.
 *
 * A `null` in a patch clears its field (`failure`, a job's `finishedAt`). The statement text says so only when a
 * patch holds one, so that the common checkpoint costs what it did before clears existed.
 *
 * @internal
 */
import type { SqlClient, Statement } from "effect/sql"
import type { DeploymentPatch, JobPatch, NewErrorRow, NewHistoryRow } from "../DeploymentStore.ts"
import type { Columns } from "./sqlColumns.ts"
import { jsonParam } from "./sqlParams.ts"
import type { Tables } from "./sqlTables.ts"

/** Builds the write fragments for one client and one set of tables. */
export const makeWrites = (sql: SqlClient.SqlClient, tables: Tables, columns: Columns) => {
  const jobRuns = sql(tables.jobRuns)
  const errors = sql(tables.errors)
  const history = sql(tables.history)
  const { at, atJson } = columns

  /**
   * The assignments of a deployment patch's fields, absent ones left as they are: `status`, `current_job`, `state`,
   * `output`, `failure` (`null` clears it) and `parked`. `resumes`, the lease and `updated_at` are the caller's.
   */
  const patchAssignments = (patch: DeploymentPatch) =>
    sql`status = COALESCE(${patch.status ?? null}::text, status),
    current_job = COALESCE(${patch.currentJob ?? null}::integer, current_job),
    state = COALESCE(${jsonParam(patch.state)}::jsonb, state),
    output = COALESCE(${jsonParam(patch.output)}::jsonb, output),
    failure = ${
      patch.failure === null ? sql.literal("NULL") : sql`COALESCE(${jsonParam(patch.failure)}::jsonb, failure)`
    },
    parked = COALESCE(${jsonParam(patch.parked)}::jsonb, parked)`

  /**
   * The `UPDATE` of job records by job patches, whose rows `from` lists (`p.value`, a job patch as JSON) for the
   * deployment whose id is `deploymentId`. The optional columns are written only when `shape` says a patch may
   * hold them, so that the common forward checkpoint's statement stays short.
   */
  const jobUpdate = (
    from: Statement.Fragment,
    deploymentId: Statement.Fragment,
    shape: { readonly clears: boolean; readonly rollbackTimes: boolean; readonly attemptsKept: boolean }
  ) => {
    // a JSON null clears it, an absent one leaves it
    const finished = sql`COALESCE(${atJson("p.value->>'finishedAt'")}, r.finished_at)`
    return sql`UPDATE ${jobRuns} AS r SET
    status = p.value->>'status',
    input = COALESCE(p.value->'input', r.input),
    output = COALESCE(p.value->'output', r.output),
    attempts = COALESCE((p.value->>'attempts')::integer, r.attempts),
    started_at = COALESCE(${atJson("p.value->>'startedAt'")}, r.started_at),
    finished_at = ${
      shape.clears ? sql`CASE WHEN p.value->'finishedAt' = 'null'::jsonb THEN NULL ELSE ${finished} END` : finished
    }${
      shape.rollbackTimes
        ? sql`,
    rollback_started_at = COALESCE(${atJson("p.value->>'rollbackStartedAt'")}, r.rollback_started_at),
    rollback_finished_at = COALESCE(${atJson("p.value->>'rollbackFinishedAt'")}, r.rollback_finished_at)`
        : sql``
    }${
      shape.attemptsKept ? sql`,
    earlier_attempts = COALESCE(p.value->'earlierAttempts', r.earlier_attempts)` : sql``
    }
  FROM ${from}
  WHERE r.deployment_id = ${deploymentId} AND r."index" = (p.value->>'index')::integer`
  }

  /**
   * An `UPDATE` of the job records of the deployment `source` returned, by the job patches (`r` is the job record;
   * add `RETURNING` to read them).
   */
  const jobUpdates = (source: string, jobs: ReadonlyArray<JobPatch>) => {
    const from = sql.literal(source)
    return jobUpdate(sql`${from}, jsonb_array_elements(${JSON.stringify(jobs)}::jsonb) AS p(value)`, sql`${from}.id`, {
      clears: jobs.some((job) => job.finishedAt === null),
      // rollback steps only: the forward checkpoints' statement stays as it was
      rollbackTimes: jobs.some((job) => job.rollbackStartedAt !== undefined || job.rollbackFinishedAt !== undefined),
      // a job that starts again only
      attemptsKept: jobs.some((job) => job.earlierAttempts !== undefined)
    })
  }

  /**
   * The `UPDATE` of the job records of every deployment `source` returned (`id`, and `value`: its checkpoint as
   * JSON, whose `jobs` are its job patches), for checkpoints written together.
   */
  const jobUpdatesOfEach = (source: string, shape: Parameters<typeof jobUpdate>[2]) => {
    const from = sql.literal(source)
    return jobUpdate(sql`${from} AS f, jsonb_array_elements(f.value->'jobs') AS p(value)`, sql`f.id`, shape)
  }

  /** An `INSERT` of error log entries, in their order, for the deployment `source` returned. */
  const errorInserts = (source: string, entries: ReadonlyArray<NewErrorRow>) => {
    const from = sql.literal(source)
    return errorInsert(
      sql`${from}, jsonb_array_elements(${JSON.stringify(entries)}::jsonb) WITH ORDINALITY AS e(value, position)`,
      sql`${from}.id`,
      sql`e.position`
    )
  }

  /**
   * An `INSERT` of the error log entries of every deployment `source` returned (`id`, `ord`: its place in the
   * batch, `value`: its checkpoint as JSON, whose `errors` are its entries), in batch order then entry order.
   */
  const errorInsertsOfEach = (source: string) => {
    const from = sql.literal(source)
    return errorInsert(
      sql`${from} AS f, jsonb_array_elements(f.value->'errors') WITH ORDINALITY AS e(value, position)`,
      sql`f.id`,
      sql`f.ord, e.position`
    )
  }

  const errorInsert = (from: Statement.Fragment, deploymentId: Statement.Fragment, order: Statement.Fragment) =>
    sql`INSERT INTO ${errors} (deployment_id, job, phase, tag, message, detail, at)
  SELECT ${deploymentId}, e.value->>'job', e.value->>'phase', e.value->>'tag', e.value->>'message', e.value->'detail',
    ${atJson("e.value->>'at'")}
  FROM ${from}
  ORDER BY ${order}`

  /** An `INSERT` of one history entry for the deployment `source` returned (add `RETURNING` to count it). */
  const historyInsert = (source: string, entry: NewHistoryRow) => {
    const from = sql.literal(source)
    return sql`INSERT INTO ${history} (deployment_id, operation, outcome, "by", at, reason, job, message, detail)
  SELECT ${from}.id, ${entry.operation}::text, ${entry.outcome}::text, ${entry.by}::text, ${at(entry.at)},
    ${entry.reason ?? null}::text, ${entry.job ?? null}::text, ${entry.message ?? null}::text,
    ${jsonParam(entry.detail)}::jsonb
  FROM ${from}`
  }

  return { errorInserts, errorInsertsOfEach, historyInsert, jobUpdates, jobUpdatesOfEach, patchAssignments }
}

/** The fragments of `makeWrites`. */
export type Writes = ReturnType<typeof makeWrites>
