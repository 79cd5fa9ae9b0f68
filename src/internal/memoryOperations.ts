/**
 * The memory store's part of the operators' operations: `requestStop` (and the `stopRequests` it publishes),
 * `takeOver` (a compare-and-set on the status, the lease epoch and the pending request), `requestOperation`,
 * `findRequests`, `recordOperation` and `history`.
 *
 * @internal
 */
import { Effect, PubSub, Stream } from "effect"
import type { PersistenceError } from "../ActionError.ts"
import type {
  DeploymentRow,
  DeploymentStoreShape,
  OperationRequestResult,
  StopResult,
  TakeOverResult
} from "../DeploymentStore.ts"
import {
  appendErrors,
  appendHistory,
  applyPatches,
  copyRow,
  copySnapshot,
  type MemoryState
} from "./memoryState.ts"
import { unstorableValue } from "./storable.ts"

/** The memory store's part of the operators' operations. */
export type MemoryOperations = Pick<
  DeploymentStoreShape,
  "requestStop" | "takeOver" | "requestOperation" | "findRequests" | "recordOperation" | "history" | "stopRequests"
>

/** `requestStop`: sets the stop flag of a running deployment, and tells `stopRequests` about it. */
const requestStop = (state: MemoryState): DeploymentStoreShape["requestStop"] => (deploymentId, at, history) =>
  Effect.suspend((): Effect.Effect<StopResult, PersistenceError> => {
    const refused = history === undefined ? undefined : unstorableValue("requestStop", history)
    if (refused !== undefined) return Effect.fail(refused)
    const entry = state.entries.get(deploymentId)
    if (entry === undefined) return Effect.succeed({ _tag: "NotFound" })
    if (entry.deployment.parked !== undefined) return Effect.succeed({ _tag: "Parked", parked: entry.deployment.parked })
    if (entry.deployment.status !== "running") {
      return Effect.succeed({ _tag: "NotRunning", status: entry.deployment.status })
    }
    Object.assign(entry.deployment, { stopRequested: true, updatedAt: at })
    if (history !== undefined) appendHistory(state, entry, history)
    return Effect.as(PubSub.publish(state.stops, deploymentId), { _tag: "Requested", owner: entry.deployment.owner })
  })

/** `takeOver`: the operation's patches and a new lease for the caller, only if the deployment is still as read. */
const takeOver = (state: MemoryState): DeploymentStoreShape["takeOver"] => (request) =>
  Effect.suspend((): Effect.Effect<TakeOverResult, PersistenceError> => {
    const refused = unstorableValue("takeOver", request)
    if (refused !== undefined) return Effect.fail(refused)
    const entry = state.entries.get(request.deploymentId)
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
    appendErrors(state, entry, request.errors)
    appendHistory(state, entry, request.history)
    return Effect.succeed({ _tag: "TakenOver", snapshot: copySnapshot(entry) })
  })

/** `requestOperation`: records a request for a process that has the action, when none is pending. */
const requestOperation = (state: MemoryState): DeploymentStoreShape["requestOperation"] => (write) =>
  Effect.suspend((): Effect.Effect<OperationRequestResult, PersistenceError> => {
    const refused = unstorableValue("requestOperation", write)
    if (refused !== undefined) return Effect.fail(refused)
    const entry = state.entries.get(write.deploymentId)
    if (entry === undefined) return Effect.succeed({ _tag: "NotFound" })
    const row = entry.deployment
    if (row.parked !== undefined) return Effect.succeed({ _tag: "Parked", parked: row.parked })
    if (row.request !== undefined) {
      return Effect.succeed({ _tag: "Refused", status: row.status, pending: { ...row.request } })
    }
    if (!write.statuses.includes(row.status)) return Effect.succeed({ _tag: "Refused", status: row.status })
    row.request = { ...write.request }
    row.updatedAt = write.request.at
    appendHistory(state, entry, write.history)
    return Effect.succeed({ _tag: "Requested" })
  })

/** `findRequests`: the pending requests the caller can carry out, oldest first. */
const findRequests = (state: MemoryState): DeploymentStoreShape["findRequests"] => (query) =>
  Effect.sync(() => {
    const runnable = new Set(query.runnable.map((r) => JSON.stringify([r.application, r.action, r.fingerprint])))
    const named = new Set(query.runnable.map((r) => JSON.stringify([r.application, r.action])))
    const rows: Array<DeploymentRow> = []
    for (const entry of state.entries.values()) {
      const row = entry.deployment
      if (row.request === undefined || row.parked !== undefined) continue
      // a restart starts the action as registered now: whichever version a process has can carry the request out
      const found = row.request.operation === "restart"
        ? named.has(JSON.stringify([row.application, row.action]))
        : runnable.has(JSON.stringify([row.application, row.action, row.fingerprint]))
      if (found) rows.push(copyRow(row))
    }
    rows.sort((a, b) => (a.request?.at ?? 0) - (b.request?.at ?? 0))
    return rows.slice(0, query.limit)
  })

/** `recordOperation`: appends a history entry, clearing the request it carried out (only if still pending). */
const recordOperation = (state: MemoryState): DeploymentStoreShape["recordOperation"] => (deploymentId, history, requestId) =>
  Effect.suspend((): Effect.Effect<boolean, PersistenceError> => {
    const refused = unstorableValue("recordOperation", history)
    if (refused !== undefined) return Effect.fail(refused)
    const entry = state.entries.get(deploymentId)
    if (entry === undefined) return Effect.succeed(false)
    if (requestId !== undefined) {
      if (entry.deployment.request?.id !== requestId) return Effect.succeed(false)
      entry.deployment.request = undefined
    }
    appendHistory(state, entry, history)
    return Effect.succeed(true)
  })

/** Builds the memory store's part of the operators' operations on its state. */
export const makeMemoryOperations = (state: MemoryState): MemoryOperations => ({
  requestStop: requestStop(state),
  takeOver: takeOver(state),
  requestOperation: requestOperation(state),
  findRequests: findRequests(state),
  recordOperation: recordOperation(state),
  history: (deploymentId) =>
    Effect.sync(() => (state.entries.get(deploymentId)?.history ?? []).map((row) => ({ ...row }))),
  stopRequests: Stream.fromPubSub(state.stops)
})
