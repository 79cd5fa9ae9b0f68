/**
 * The shape of a stored deployment's job records, checked before the runtime runs it: one record per job of its
 * registered action, in order, each with its own index and name, a job status, a whole attempt count and whole
 * epoch-millisecond times. A store's types say so, but what a store reads back is data: a record edited by hand, or
 * written by a store with a bug, must park its deployment (reported, left as it is), never derail its run or the
 * claims of others. The values (inputs, outputs) are decoded with their schemas where they are used.
 *
 * @internal
 */
import { Schema } from "effect"
import { StoredDataCorrupt } from "../ActionError.ts"
import { JobStatus } from "../Deployment.ts"
import type { JobRunRow } from "../DeploymentStore.ts"
import type { CompiledJob } from "./registration.ts"

const isJobStatus = Schema.is(JobStatus)

const isWhole = (value: unknown): boolean => typeof value === "number" && Number.isSafeInteger(value)

const isTime = (value: unknown): boolean => value === undefined || isWhole(value)

/** A value as a report shows it, shortened; never throws (a `bigint` or a cycle is shown with `String`). */
const shown = (value: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}

/** What is wrong with one record, at place `index`, of the job named `name`; `undefined` when nothing is. */
const recordIssue = (record: JobRunRow | undefined, index: number, name: string): string | undefined => {
  if (typeof record !== "object" || record === null) return `the record of job ${index} is ${shown(record)}`
  if (record.index !== index) return `the record at place ${index} has index ${shown(record.index)}`
  if (record.name !== name) return `the record of job ${index} names ${shown(record.name)}, not "${name}"`
  if (!isJobStatus(record.status)) return `job "${name}" has the status ${shown(record.status)}`
  if (!isWhole(record.attempts) || record.attempts < 0) {
    return `job "${name}" has the attempt count ${shown(record.attempts)}`
  }
  for (const field of ["startedAt", "finishedAt", "rollbackStartedAt", "rollbackFinishedAt"] as const) {
    if (!isTime(record[field])) return `job "${name}" has the ${field} ${shown(record[field])}`
  }
  if (record.earlierAttempts !== undefined && !Array.isArray(record.earlierAttempts)) {
    return `job "${name}" has the earlier attempts ${shown(record.earlierAttempts)}`
  }
  return undefined
}

/**
 * The report of a deployment's job records that are not in the shape the runtime relies on, for the compiled jobs
 * of its registration (`StoredDataCorrupt`, field `job records`), or `undefined` when they are.
 */
export const corruptJobRecords = (
  deploymentId: string,
  jobs: ReadonlyArray<JobRunRow>,
  compiled: ReadonlyArray<Pick<CompiledJob, "job">>
): StoredDataCorrupt | undefined => {
  const issue = jobRecordsIssue(jobs, compiled)
  return issue === undefined ? undefined : new StoredDataCorrupt({ deploymentId, field: "job records", issue })
}

const jobRecordsIssue = (
  jobs: ReadonlyArray<JobRunRow>,
  compiled: ReadonlyArray<Pick<CompiledJob, "job">>
): string | undefined => {
  if (!Array.isArray(jobs)) return `the job records are ${shown(jobs)}`
  if (jobs.length !== compiled.length) return `${jobs.length} job records for the ${compiled.length} jobs of the action`
  for (let index = 0; index < compiled.length; index++) {
    const issue = recordIssue(jobs[index], index, compiled[index]!.job.name)
    if (issue !== undefined) return issue
  }
  return undefined
}
