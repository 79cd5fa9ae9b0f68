/**
 * The in-memory `DeploymentStore`: plain JavaScript maps holding the encoded values as they are (no JSON round trip),
 * refusing what PostgreSQL refuses, so that what passes on it passes there. `DeploymentStore.makeMemory` and
 * `DeploymentStore.layerMemory` are its public forms.
 *
 * @internal
 */
import { Effect, Option, PubSub, Stream } from "effect"
import { LeaseLost, PersistenceError } from "../ActionError.ts"
import { type DeploymentStatus, isActive, isTerminal } from "../Deployment.ts"
import type {
  CreateResult,
  DeploymentPatch,
  DeploymentRow,
  DeploymentStoreShape,
  ErrorRow,
  Fence,
  HeldLease,
  HistoryRow,
  JobDataRow,
  JobPatch,
  JobRunRow,
  Json,
  ListPage,
  NewErrorRow,
  NewHistoryRow,
  OperationRequestResult,
  Snapshot,
  StopResult,
  TakeOverResult
} from "../DeploymentStore.ts"
import { decodeCursor, encodeCursor, invalidCursor } from "./listCursor.ts"
import { jsonIssue } from "./storable.ts"

type Mutable<A> = { -readonly [K in keyof A]: A[K] }

interface MemoryEntry {
  /** The store's own row: updated in place, never handed out (reads return copies). */
  readonly deployment: Mutable<DeploymentRow>
  readonly jobs: Array<JobRunRow>
  readonly errors: Array<ErrorRow>
  readonly history: Array<HistoryRow>
  readonly data: Map<string, Json>
}

const keyOf = (application: string, action: string, key: string): string => JSON.stringify([application, action, key])
const dataKeyOf = (job: string, key: string): string => JSON.stringify([job, key])
/** A copy of a stored row to hand out: its pending request copied too, as the caller may change what it reads. */
const copyRow = (row: DeploymentRow): DeploymentRow =>
  row.request === undefined ? { ...row } : { ...row, request: { ...row.request } }
const copySnapshot = (entry: MemoryEntry): Snapshot => ({
  deployment: copyRow(entry.deployment),
  jobs: entry.jobs.map((job) => ({ ...job }))
})
/** Refuses what PostgreSQL refuses too, so that what passes on the memory store passes there. */
const unstorable = (operation: string, value: unknown): PersistenceError | undefined => {
  const issue = jsonIssue(value)
  return issue === undefined
    ? undefined
    : new PersistenceError({ reason: "invalid", operation, detail: `a value cannot be stored: ${issue}` })
}

/** Applies a checkpoint's patches to an entry in place (`null` clears a field); returns the deployment row. */
const applyPatches = (
  entry: MemoryEntry,
  patch: DeploymentPatch,
  jobs: ReadonlyArray<JobPatch>,
  at: number
): Mutable<DeploymentRow> => {
  const { failure, releaseLease, ...fields } = patch
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

const newestFirst = (a: DeploymentRow, b: DeploymentRow): number =>
  b.createdAt - a.createdAt || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0)

/** Builds an in-memory store (see `DeploymentStore.makeMemory`). */
export const makeMemoryStore: Effect.Effect<DeploymentStoreShape> = Effect.gen(function*() {
  const stops = yield* PubSub.unbounded<string>()
  const entries = new Map<string, MemoryEntry>()
  const byKey = new Map<string, string>()
  let sequence = 0

  const fenced = (fence: Fence): Effect.Effect<MemoryEntry, LeaseLost> =>
    Effect.suspend(() => {
      const entry = entries.get(fence.deploymentId)
      return entry !== undefined && entry.deployment.owner === fence.owner &&
          entry.deployment.leaseEpoch === fence.epoch
        ? Effect.succeed(entry)
        : Effect.fail(new LeaseLost({ deploymentId: fence.deploymentId, owner: fence.owner, epoch: fence.epoch }))
    })

  /** The fenced entry, unless `value` holds something no store can hold. */
  const refuseUnstorable = (operation: string, value: unknown, entry: Effect.Effect<MemoryEntry, LeaseLost>) =>
    Effect.suspend((): Effect.Effect<MemoryEntry, LeaseLost | PersistenceError> => {
      const refused = unstorable(operation, value)
      return refused === undefined ? entry : Effect.fail(refused)
    })

  const append = (entry: MemoryEntry, errors: ReadonlyArray<NewErrorRow>) => {
    for (const error of errors) entry.errors.push({ ...error, sequence: ++sequence })
  }
  const appendHistory = (entry: MemoryEntry, row: NewHistoryRow) => {
    entry.history.push({ ...row, sequence: ++sequence })
  }

  const store: DeploymentStoreShape = {
    create: (snapshot) =>
      Effect.suspend((): Effect.Effect<CreateResult, PersistenceError> => {
        const { deployment } = snapshot
        const refused = unstorable("create", snapshot)
        if (refused !== undefined) return Effect.fail(refused)
        const repeated = entries.get(deployment.id)
        if (repeated !== undefined) return Effect.succeed({ _tag: "Existing", snapshot: copySnapshot(repeated) })
        const composite = deployment.key === undefined
          ? undefined
          : keyOf(deployment.application, deployment.action, deployment.key)
        if (composite !== undefined) {
          const existing = byKey.get(composite)
          const entry = existing === undefined ? undefined : entries.get(existing)
          if (entry !== undefined) return Effect.succeed({ _tag: "Existing", snapshot: copySnapshot(entry) })
          byKey.set(composite, deployment.id)
        }
        entries.set(deployment.id, {
          deployment: { ...deployment },
          jobs: snapshot.jobs.map((job) => ({ ...job })),
          errors: [],
          history: [],
          data: new Map()
        })
        return Effect.succeed({ _tag: "Created" })
      }),

    checkpoint: (checkpoint) =>
      Effect.map(refuseUnstorable("checkpoint", checkpoint, fenced(checkpoint.fence)), (entry) => {
        const row = applyPatches(entry, checkpoint.deployment, checkpoint.jobs, checkpoint.at)
        append(entry, checkpoint.errors)
        return { stopRequested: row.stopRequested }
      }),

    appendErrors: (fence, errors) =>
      Effect.map(refuseUnstorable("appendErrors", errors, fenced(fence)), (entry) => append(entry, errors)),

    setJobData: (fence, job, key, value) =>
      Effect.map(refuseUnstorable("setJobData", [job, key, value], fenced(fence)), (entry) => {
        entry.data.set(dataKeyOf(job, key), value)
      }),

    getJobData: (deploymentId, job, key) =>
      Effect.sync(() => {
        const entry = entries.get(deploymentId)
        const dataKey = dataKeyOf(job, key)
        return entry !== undefined && entry.data.has(dataKey)
          ? Option.some(entry.data.get(dataKey) as Json)
          : Option.none()
      }),

    get: (deploymentId) =>
      Effect.sync(() => {
        const entry = entries.get(deploymentId)
        return entry === undefined ? Option.none() : Option.some(copySnapshot(entry))
      }),

    status: (deploymentId) =>
      Effect.sync(() => {
        const row = entries.get(deploymentId)?.deployment
        return row === undefined ? Option.none() : Option.some({
          id: row.id,
          application: row.application,
          action: row.action,
          status: row.status,
          parked: row.parked,
          updatedAt: row.updatedAt
        })
      }),

    list: (query) =>
      Effect.suspend((): Effect.Effect<ListPage, PersistenceError> => {
        const after = query.cursor === undefined ? Option.none() : decodeCursor(query.cursor)
        if (query.cursor !== undefined && Option.isNone(after)) return Effect.fail(invalidCursor(query.cursor))
        const rows: Array<DeploymentRow> = []
        for (const entry of entries.values()) {
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
      }),

    errors: (deploymentId, job) =>
      Effect.sync(() => {
        const entry = entries.get(deploymentId)
        if (entry === undefined) return []
        return entry.errors.filter((error) => job === undefined || error.job === job).map((error) => ({ ...error }))
      }),

    requestStop: (deploymentId, at, history) =>
      Effect.suspend((): Effect.Effect<StopResult, PersistenceError> => {
        const refused = history === undefined ? undefined : unstorable("requestStop", history)
        if (refused !== undefined) return Effect.fail(refused)
        const entry = entries.get(deploymentId)
        if (entry === undefined) return Effect.succeed({ _tag: "NotFound" })
        if (entry.deployment.parked !== undefined) return Effect.succeed({ _tag: "Parked", parked: entry.deployment.parked })
        if (entry.deployment.status !== "running") {
          return Effect.succeed({ _tag: "NotRunning", status: entry.deployment.status })
        }
        Object.assign(entry.deployment, { stopRequested: true, updatedAt: at })
        if (history !== undefined) appendHistory(entry, history)
        return Effect.as(PubSub.publish(stops, deploymentId), { _tag: "Requested", owner: entry.deployment.owner })
      }),

    claim: (request) =>
      Effect.sync(() => {
        const runnable = new Set(request.runnable.map((r) => JSON.stringify([r.application, r.action, r.fingerprint])))
        const candidates: Array<MemoryEntry> = []
        for (const entry of entries.values()) {
          const row = entry.deployment
          if (!isActive(row.status) || row.parked !== undefined) continue
          if (!runnable.has(JSON.stringify([row.application, row.action, row.fingerprint]))) continue
          if (row.leaseExpiresAt === undefined || row.leaseExpiresAt <= request.now) candidates.push(entry)
        }
        candidates.sort((a, b) => (a.deployment.leaseExpiresAt ?? 0) - (b.deployment.leaseExpiresAt ?? 0))
        return candidates.slice(0, request.limit).map((entry) => {
          Object.assign(entry.deployment, {
            owner: request.owner,
            leaseEpoch: entry.deployment.leaseEpoch + 1,
            resumes: entry.deployment.resumes + 1,
            leaseExpiresAt: request.now + request.leaseTtlMillis
          })
          return copySnapshot(entry)
        })
      }),

    heartbeat: (request) =>
      Effect.sync(() => {
        const held: Array<HeldLease> = []
        for (const id of new Set(request.deploymentIds)) {
          const entry = entries.get(id)
          if (entry === undefined) continue
          const row = entry.deployment
          if (row.owner !== request.owner || !isActive(row.status)) continue
          row.leaseExpiresAt = request.now + request.leaseTtlMillis
          held.push({ deploymentId: row.id, epoch: row.leaseEpoch, stopRequested: row.stopRequested })
        }
        return held
      }),

    release: (fence, at) =>
      Effect.sync(() => {
        const entry = entries.get(fence.deploymentId)
        if (entry === undefined) return
        const row = entry.deployment
        if (row.owner !== fence.owner || row.leaseEpoch !== fence.epoch) return
        Object.assign(row, { owner: undefined, leaseExpiresAt: at, updatedAt: at })
      }),

    prune: (before, limit) =>
      Effect.sync(() => {
        let pruned = 0
        for (const [id, entry] of entries) {
          if (pruned >= limit) break
          const row = entry.deployment
          if (!isTerminal(row.status) || row.updatedAt >= before) continue
          entries.delete(id)
          if (row.key !== undefined) byKey.delete(keyOf(row.application, row.action, row.key))
          pruned++
        }
        return pruned
      }),

    discardCreated: (fence) =>
      Effect.sync(() => {
        const entry = entries.get(fence.deploymentId)
        if (entry === undefined) return false
        const row = entry.deployment
        if (row.owner !== fence.owner || row.leaseEpoch !== fence.epoch || row.currentJob !== 0) return false
        if (row.status !== "running" || entry.jobs[0]?.status !== "running") return false
        entries.delete(fence.deploymentId)
        if (row.key !== undefined) byKey.delete(keyOf(row.application, row.action, row.key))
        return true
      }),

    findMismatched: (request) =>
      Effect.sync(() => {
        const registered = new Map(request.runnable.map((r) => [JSON.stringify([r.application, r.action]), r.fingerprint]))
        const rows: Array<DeploymentRow> = []
        for (const entry of entries.values()) {
          const row = entry.deployment
          if (!isActive(row.status) || row.parked !== undefined) continue
          if (row.leaseExpiresAt !== undefined && row.leaseExpiresAt > request.now) continue
          const fingerprint = registered.get(JSON.stringify([row.application, row.action]))
          if (fingerprint !== undefined && fingerprint !== row.fingerprint) rows.push(copyRow(row))
        }
        return rows.slice(0, request.limit)
      }),

    appendErrorOnce: (deploymentId, error) =>
      Effect.suspend(() => {
        const refused = unstorable("appendErrorOnce", error)
        return refused === undefined ? Effect.sync(() => appendOnce(deploymentId, error)) : Effect.fail(refused)
      }),

    takeOver: (request) =>
      Effect.suspend((): Effect.Effect<TakeOverResult, PersistenceError> => {
        const refused = unstorable("takeOver", request)
        if (refused !== undefined) return Effect.fail(refused)
        const entry = entries.get(request.deploymentId)
        if (entry === undefined) return Effect.succeed({ _tag: "NotFound" })
        const row = entry.deployment
        const { expect } = request
        if (
          row.status !== expect.status || row.leaseEpoch !== expect.leaseEpoch || row.parked !== undefined ||
          row.request?.id !== expect.requestId
        ) return Effect.succeed({ _tag: "Changed", deployment: copyRow(row) })
        applyPatches(entry, request.deployment, request.jobs, request.at)
        Object.assign(row, {
          owner: request.owner,
          leaseEpoch: row.leaseEpoch + 1,
          leaseExpiresAt: request.now + request.leaseTtlMillis,
          resumes: 0,
          stopRequested: false,
          request: undefined
        })
        append(entry, request.errors)
        appendHistory(entry, request.history)
        return Effect.succeed({ _tag: "TakenOver", snapshot: copySnapshot(entry) })
      }),

    requestOperation: (write) =>
      Effect.suspend((): Effect.Effect<OperationRequestResult, PersistenceError> => {
        const refused = unstorable("requestOperation", write)
        if (refused !== undefined) return Effect.fail(refused)
        const entry = entries.get(write.deploymentId)
        if (entry === undefined) return Effect.succeed({ _tag: "NotFound" })
        const row = entry.deployment
        if (row.parked !== undefined) return Effect.succeed({ _tag: "Parked", parked: row.parked })
        if (row.request !== undefined) {
          return Effect.succeed({ _tag: "Refused", status: row.status, pending: { ...row.request } })
        }
        if (!write.statuses.includes(row.status)) return Effect.succeed({ _tag: "Refused", status: row.status })
        row.request = { ...write.request }
        row.updatedAt = write.request.at
        appendHistory(entry, write.history)
        return Effect.succeed({ _tag: "Requested" })
      }),

    findRequests: (query) =>
      Effect.sync(() => {
        const runnable = new Set(query.runnable.map((r) => JSON.stringify([r.application, r.action, r.fingerprint])))
        const named = new Set(query.runnable.map((r) => JSON.stringify([r.application, r.action])))
        const rows: Array<DeploymentRow> = []
        for (const entry of entries.values()) {
          const row = entry.deployment
          if (row.request === undefined || row.parked !== undefined) continue
          // a restart starts the action as registered now: any version of it can carry the request out
          const found = row.request.operation === "restart"
            ? named.has(JSON.stringify([row.application, row.action]))
            : runnable.has(JSON.stringify([row.application, row.action, row.fingerprint]))
          if (found) rows.push(copyRow(row))
        }
        rows.sort((a, b) => (a.request?.at ?? 0) - (b.request?.at ?? 0))
        return rows.slice(0, query.limit)
      }),

    recordOperation: (deploymentId, history, requestId) =>
      Effect.suspend((): Effect.Effect<boolean, PersistenceError> => {
        const refused = unstorable("recordOperation", history)
        if (refused !== undefined) return Effect.fail(refused)
        const entry = entries.get(deploymentId)
        if (entry === undefined) return Effect.succeed(false)
        if (requestId !== undefined) {
          if (entry.deployment.request?.id !== requestId) return Effect.succeed(false)
          entry.deployment.request = undefined
        }
        appendHistory(entry, history)
        return Effect.succeed(true)
      }),

    history: (deploymentId) =>
      Effect.sync(() => (entries.get(deploymentId)?.history ?? []).map((row) => ({ ...row }))),

    counts: (query) =>
      Effect.sync(() => {
        const counts: { -readonly [S in DeploymentStatus]: number } = {
          running: 0,
          succeeded: 0,
          rolling_back: 0,
          rolled_back: 0,
          rollback_failed: 0,
          paused: 0
        }
        for (const entry of entries.values()) {
          const row = entry.deployment
          if (query.application !== undefined && row.application !== query.application) continue
          if (query.action !== undefined && row.action !== query.action) continue
          if (counts[row.status] < query.limit) counts[row.status]++
        }
        return counts
      }),

    jobData: (deploymentId) =>
      Effect.sync(() => {
        const entry = entries.get(deploymentId)
        if (entry === undefined) return []
        const rows: Array<JobDataRow> = []
        for (const [dataKey, value] of entry.data) {
          const [job, key] = JSON.parse(dataKey) as [string, string]
          rows.push({ job, key, value })
        }
        return rows.sort((a, b) => a.job < b.job ? -1 : a.job > b.job ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
      }),

    stopRequests: Stream.fromPubSub(stops)
  }
  const appendOnce = (deploymentId: string, error: NewErrorRow): boolean => {
        const entry = entries.get(deploymentId)
        if (entry === undefined) return false
        if (entry.errors.some((e) => e.tag === error.tag && e.message === error.message)) return false
        append(entry, [error])
        return true
  }
  return store
})
