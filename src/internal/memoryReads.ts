/**
 * The memory store's reads: `get`, `status`, `list`, `errors`, `counts` and the job data (`getJobData`, `jobData`).
 * Each hands out copies, never the store's own rows.
 *
 * @internal
 */
import { Effect, Option } from "effect"
import type { PersistenceError } from "../ActionError.ts"
import type { DeploymentStatus } from "../Deployment.ts"
import type { DeploymentRow, DeploymentStoreShape, JobDataRow, Json, ListPage } from "../DeploymentStore.ts"
import { decodeCursor, encodeCursor, invalidCursor } from "./listCursor.ts"
import { copyRow, copySnapshot, dataKeyOf, type MemoryState } from "./memoryState.ts"

/** The memory store's reads. */
export type MemoryReads = Pick<
  DeploymentStoreShape,
  "getJobData" | "get" | "status" | "list" | "errors" | "counts" | "jobData"
>

/** The order of `list` (newest first, then by id, descending) and of its cursor. */
const newestFirst = (a: DeploymentRow, b: DeploymentRow): number =>
  b.createdAt - a.createdAt || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0)

/** `list`: the deployments that match a query, newest first, a page at a time. */
const list = (state: MemoryState): DeploymentStoreShape["list"] => (query) =>
  Effect.suspend((): Effect.Effect<ListPage, PersistenceError> => {
    const after = query.cursor === undefined ? Option.none() : decodeCursor(query.cursor)
    if (query.cursor !== undefined && Option.isNone(after)) return Effect.fail(invalidCursor(query.cursor))
    const rows: Array<DeploymentRow> = []
    for (const entry of state.entries.values()) {
      const row = entry.deployment
      if (query.statuses !== undefined && !query.statuses.includes(row.status)) continue
      if (query.application !== undefined && row.application !== query.application) continue
      if (query.action !== undefined && row.action !== query.action) continue
      if (query.key !== undefined && row.key !== query.key) continue
      if (query.createdBefore !== undefined && row.createdAt >= query.createdBefore) continue
      if (query.createdAfter !== undefined && row.createdAt < query.createdAfter) continue
      if (Option.isSome(after) && newestFirst(row, { ...row, ...after.value }) <= 0) continue
      rows.push(row)
    }
    rows.sort(newestFirst)
    const items = rows.slice(0, query.limit).map(copyRow)
    const last = items[items.length - 1]
    return Effect.succeed(
      rows.length > query.limit && last !== undefined ? { items, next: encodeCursor(last) } : { items }
    )
  })

/** `counts`: the deployments in each status, of an application and an action when given, each up to `limit`. */
const counts = (state: MemoryState): DeploymentStoreShape["counts"] => (query) =>
  Effect.sync(() => {
    const counts: { -readonly [S in DeploymentStatus]: number } = {
      running: 0,
      succeeded: 0,
      rolling_back: 0,
      rolled_back: 0,
      rollback_failed: 0,
      paused: 0
    }
    for (const entry of state.entries.values()) {
      const row = entry.deployment
      if (query.application !== undefined && row.application !== query.application) continue
      if (query.action !== undefined && row.action !== query.action) continue
      if (counts[row.status] < query.limit) counts[row.status]++
    }
    return counts
  })

/** `jobData`: every job data entry of a deployment, by job then key. */
const jobData = (state: MemoryState): DeploymentStoreShape["jobData"] => (deploymentId) =>
  Effect.sync(() => {
    const entry = state.entries.get(deploymentId)
    if (entry === undefined) return []
    const rows: Array<JobDataRow> = []
    for (const [dataKey, value] of entry.data) {
      const [job, key] = JSON.parse(dataKey) as [string, string]
      rows.push({ job, key, value })
    }
    return rows.sort((a, b) => a.job < b.job ? -1 : a.job > b.job ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  })

/** Builds the memory store's reads on its state. */
export const makeMemoryReads = (state: MemoryState): MemoryReads => ({
  getJobData: (deploymentId, job, key) =>
    Effect.sync(() => {
      const entry = state.entries.get(deploymentId)
      const dataKey = dataKeyOf(job, key)
      return entry !== undefined && entry.data.has(dataKey)
        ? Option.some(entry.data.get(dataKey) as Json)
        : Option.none()
    }),

  get: (deploymentId) =>
    Effect.sync(() => {
      const entry = state.entries.get(deploymentId)
      return entry === undefined ? Option.none() : Option.some(copySnapshot(entry))
    }),

  status: (deploymentId) =>
    Effect.sync(() => {
      const row = state.entries.get(deploymentId)?.deployment
      return row === undefined ? Option.none() : Option.some({
        id: row.id,
        application: row.application,
        action: row.action,
        status: row.status,
        parked: row.parked,
        updatedAt: row.updatedAt
      })
    }),

  list: list(state),

  errors: (deploymentId, job) =>
    Effect.sync(() => {
      const entry = state.entries.get(deploymentId)
      if (entry === undefined) return []
      return entry.errors.filter((error) => job === undefined || error.job === job).map((error) => ({ ...error }))
    }),

  counts: counts(state),

  jobData: jobData(state)
})
