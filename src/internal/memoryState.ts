/**
 * The memory store's state and the helpers its parts share: the entries (a deployment row with its job records,
 * error log, history and job data), the copies handed out (the store's own rows are updated in place, never handed
 * out), the fence check, and the patches of a checkpoint. It refuses what PostgreSQL refuses (`unstorableValue`), so
 * that what passes on it passes there.
 *
 * @internal
 */
import { Effect, type PubSub } from "effect"
import type { LeaseLost, PersistenceError } from "../ActionError.ts"
import type {
  DeploymentPatch,
  DeploymentRow,
  ErrorRow,
  Fence,
  HistoryRow,
  JobPatch,
  JobRunRow,
  Json,
  NewErrorRow,
  NewHistoryRow,
  Snapshot
} from "../DeploymentStore.ts"
import { holdsLease, leaseLost } from "./fences.ts"
import { unstorableValue } from "./storable.ts"

/** A type with its fields writable: the store's own rows, updated in place. */
export type Mutable<A> = { -readonly [K in keyof A]: A[K] }

/** One stored deployment with everything stored with it. */
export interface MemoryEntry {
  /** The store's own row: updated in place, never handed out (reads return copies). */
  readonly deployment: Mutable<DeploymentRow>
  readonly jobs: Array<JobRunRow>
  readonly errors: Array<ErrorRow>
  readonly history: Array<HistoryRow>
  readonly data: Map<string, Json>
}

/** The state of one memory store, shared by its parts. */
export interface MemoryState {
  /** The entries by deployment id. */
  readonly entries: Map<string, MemoryEntry>
  /** The deployment id of each `(application, action, key)` (see `keyOf`). */
  readonly byKey: Map<string, string>
  /** The ids of the deployments asked to stop, as `stopRequests` streams them. */
  readonly stops: PubSub.PubSub<string>
  /** The last sequence number given to an error or history entry (one sequence for both). */
  sequence: number
}

/** The key of `byKey` for an `(application, action, key)`. */
export const keyOf = (application: string, action: string, key: string): string =>
  JSON.stringify([application, action, key])

/** The key of an entry's job data for a job's key. */
export const dataKeyOf = (job: string, key: string): string => JSON.stringify([job, key])

/** A copy of a stored row to hand out: its pending request copied too, as the caller may change what it reads. */
export const copyRow = (row: DeploymentRow): DeploymentRow =>
  row.request === undefined ? { ...row } : { ...row, request: { ...row.request } }

/** A copy of an entry's deployment row and job records to hand out. */
export const copySnapshot = (entry: MemoryEntry): Snapshot => ({
  deployment: copyRow(entry.deployment),
  jobs: entry.jobs.map((job) => ({ ...job }))
})

/**
 * A fenced write of `value`: `apply` runs on the entry the fence holds the lease of, unless `value` holds something
 * no store can hold (`PersistenceError`, reason `invalid`) or the lease is not the fence's (`LeaseLost`). One
 * fiber step.
 */
export const fencedWrite = <A>(
  state: MemoryState,
  operation: string,
  value: unknown,
  fence: Fence,
  apply: (entry: MemoryEntry) => A
): Effect.Effect<A, LeaseLost | PersistenceError> =>
  Effect.suspend((): Effect.Effect<A, LeaseLost | PersistenceError> => {
    const refused = unstorableValue(operation, value)
    if (refused !== undefined) return Effect.fail(refused)
    const entry = state.entries.get(fence.deploymentId)
    return entry !== undefined && holdsLease(entry.deployment, fence)
      ? Effect.succeed(apply(entry))
      : Effect.fail(leaseLost(fence))
  })

/** Appends error log entries to an entry, each with the next sequence number. */
export const appendErrors = (state: MemoryState, entry: MemoryEntry, errors: ReadonlyArray<NewErrorRow>): void => {
  for (const error of errors) entry.errors.push({ ...error, sequence: ++state.sequence })
}

/** Appends a history entry to an entry, with the next sequence number. */
export const appendHistory = (state: MemoryState, entry: MemoryEntry, row: NewHistoryRow): void => {
  entry.history.push({ ...row, sequence: ++state.sequence })
}

/** Applies a checkpoint's patches to an entry in place (`null` clears a field); returns the deployment row. */
export const applyPatches = (
  entry: MemoryEntry,
  patch: DeploymentPatch,
  jobs: ReadonlyArray<JobPatch>,
  at: number
): Mutable<DeploymentRow> => {
  // `stopRequest` is no field of the row: the checkpoint records it as the request, or not (`memoryWrites.ts`).
  const { failure, releaseLease, stopRequest: _stopRequest, ...fields } = patch
  const row = Object.assign(entry.deployment, fields)
  if (failure !== undefined) row.failure = failure ?? undefined
  if (releaseLease === true) {
    row.owner = undefined
    row.leaseExpiresAt = undefined
  }
  row.updatedAt = at
  for (const { finishedAt, ...job } of jobs) {
    const current: Mutable<JobRunRow> | undefined = entry.jobs[job.index]
    if (current === undefined) continue
    Object.assign(current, job)
    if (finishedAt !== undefined) current.finishedAt = finishedAt ?? undefined
  }
  return row
}

/** Removes an entry and its key (pruned, or discarded). */
export const removeEntry = (state: MemoryState, id: string, row: DeploymentRow): void => {
  state.entries.delete(id)
  if (row.key !== undefined) state.byKey.delete(keyOf(row.application, row.action, row.key))
}
