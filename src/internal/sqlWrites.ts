/**
 * The write fragments the deployment store's statements share: the assignments of a deployment patch and of the job
 * records (the `jobs` array of the deployment row) by job patches, and (from `sqlAppends.ts`) the inserts of error
 * and history entries. `checkpoint` and `takeOver` apply the same patches; the assignments refer to the updated
 * deployment row as `d`.
 *
 * A `null` in a patch clears its field: `failure` (the statement text says so only when a patch holds one, so that
 * the common checkpoint's statement stays as it was), or a job's `finishedAt` (stored as `null`, read as no time).
 *
 * @internal
 */
import type { SqlClient, Statement } from "effect/sql"
import type { DeploymentPatch, JobPatch, RequestRow } from "../DeploymentStore.ts"
import { makeAppends } from "./sqlAppends.ts"
import type { Columns } from "./sqlColumns.ts"
import { jsonParam } from "./sqlParams.ts"
import type { Tables } from "./sqlTables.ts"

/**
 * Job patches as one JSON object keyed by job index, without the index: the patches of one job merged in their
 * order (a later field wins), as applying them one after the other would leave the record.
 */
export const patchesByIndex = (jobs: ReadonlyArray<JobPatch>): Record<string, Record<string, unknown>> => {
  const byIndex: Record<string, Record<string, unknown>> = {}
  for (const { index, ...fields } of jobs) {
    const merged: Record<string, unknown> = { ...byIndex[String(index)] }
    for (const [field, value] of Object.entries(fields)) if (value !== undefined) merged[field] = value
    byIndex[String(index)] = merged
  }
  return byIndex
}

/** Whether a key of `patchesByIndex` is a place a job record can have (a whole number, as PostgreSQL reads it). */
const isPlace = (index: string): boolean => /^(0|[1-9][0-9]{0,8})$/.test(index)

/**
 * The places of a checkpoint's patches (`patchesByIndex`) as `j1` and `j2`, when it has one or two and each is a
 * place a record can have: what lets `jobsAssignmentOfEach` replace those records in place. Nothing otherwise.
 */
export const placesOf = (patches: Record<string, unknown>): { readonly j1?: string; readonly j2?: string } => {
  const places = Object.keys(patches)
  if (places.length === 0 || places.length > 2 || !places.every(isPlace)) return {}
  return places.length === 1 ? { j1: places[0]! } : { j1: places[0]!, j2: places[1]! }
}

/** Builds the write fragments for one client and one set of tables. */
export const makeWrites = (sql: SqlClient.SqlClient, tables: Tables, columns: Columns) => {
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
   * The job records of deployment `d` (its `jobs` array) with job patches applied, `patches` being an SQL
   * expression of a JSON object of patches by job index (`patchesByIndex`): the record at each place that has a
   * patch gets the patch's fields, the others are kept. A patch for a place the array does not have changes nothing.
   * The same merge as `jobsAssignment`'s, for a patch object only the server sees.
   */
  const mergedJobs = (patches: Statement.Fragment) =>
    sql`(
    SELECT COALESCE(jsonb_agg(e.value || COALESCE(${patches} -> (e.n - 1)::text, '{}'::jsonb) ORDER BY e.n),
      '[]'::jsonb)
    FROM jsonb_array_elements(d.jobs) WITH ORDINALITY AS e(value, n)
  )`

  /**
   * The assignment of `d.jobs` by one checkpoint's job patches, after a comma; nothing when there are none. The record
   * at each patched place is replaced in place (`jsonb_set` of `record || patch`, cheaper than rebuilding the array,
   * which `mergedJobs` does for a batch); a patch for a place the array does not have changes nothing.
   */
  const jobsAssignment = (jobs: ReadonlyArray<JobPatch>) => {
    const patches = Object.entries(patchesByIndex(jobs)).filter(([index]) => isPlace(index))
    if (patches.length === 0) return sql``
    // For a place the array does not have, `jsonb_set` (create_missing false) leaves it as it is: the `null` it is
    // given then is never used.
    let merged = sql`d.jobs`
    for (const [index, patch] of patches) {
      merged = sql`jsonb_set(${merged}, ARRAY[${index}::text], COALESCE((d.jobs -> ${Number(index)}::integer) || ${
        JSON.stringify(patch)
      }::jsonb, 'null'::jsonb), false)`
    }
    return sql`,
    jobs = ${merged}`
  }

  /**
   * The assignment of `d.jobs` for checkpoints written together: `value` (an SQL expression) is the checkpoint as
   * JSON, whose `jobs` are its patches by index (an empty object for none, which leaves the records as they are).
   * When it names the one or two places of its patches (`j1`, `j2`: `placesOf`, the common checkpoint's job that
   * finished and the next that started), those records are replaced in place, as `jobsAssignment` does; otherwise
   * the array is rebuilt (`mergedJobs`).
   */
  const jobsAssignmentOfEach = (value: string) => {
    const patches = sql.literal(`(${value}->'jobs')`)
    const place = (key: "j1" | "j2") => sql.literal(`(${value}->>'${key}')`)
    const setAt = (target: Statement.Fragment, key: "j1" | "j2") =>
      sql`jsonb_set(${target}, ARRAY[${place(key)}], COALESCE((d.jobs -> ${place(key)}::integer) || (${patches} -> ${
        place(key)
      }), 'null'::jsonb), false)`
    const first = setAt(sql`d.jobs`, "j1")
    return sql`jobs = CASE WHEN ${patches} = '{}'::jsonb THEN d.jobs
      WHEN ${place("j2")} IS NOT NULL THEN ${setAt(first, "j2")}
      WHEN ${place("j1")} IS NOT NULL THEN ${first}
      ELSE ${mergedJobs(patches)} END`
  }

  /**
   * The assignment of `request` by a pause's `stopRequest`, after a comma (nothing without one): recorded when the
   * row's stop flag is set and no request is pending (the old row's values: an `UPDATE` reads them in `SET`).
   */
  const stopRequestAssignment = (request: RequestRow | undefined) =>
    request === undefined
      ? sql``
      : sql`,
    request = CASE WHEN stop_requested AND request IS NULL THEN ${JSON.stringify(request)}::jsonb ELSE request END`

  /** The same for checkpoints written together: `element` holds each one's `stopRequest`, if it has one. */
  const stopRequestAssignmentOfEach = (element: string) =>
    sql`,
    request = CASE WHEN ${sql.literal(element)} ? 'stopRequest' AND d.stop_requested AND d.request IS NULL
      THEN ${sql.literal(element)}->'stopRequest' ELSE d.request END`

  return {
    ...makeAppends(sql, tables, columns),
    jobsAssignment,
    jobsAssignmentOfEach,
    patchAssignments,
    stopRequestAssignment,
    stopRequestAssignmentOfEach
  }
}

/** The fragments of `makeWrites`. */
export type Writes = ReturnType<typeof makeWrites>
