/**
 * The memory store's leases: `claim` of expired leases, `heartbeat`, `release`, `prune` of finished deployments,
 * `discardCreated`, and `findMismatched` (deployments started by another definition of their action).
 *
 * @internal
 */
import { Effect } from "effect"
import { isActive, isTerminal } from "../Deployment.ts"
import type { DeploymentRow, DeploymentStoreShape, HeldLease } from "../DeploymentStore.ts"
import { holdsLease } from "./fences.ts"
import { copyRow, copySnapshot, type MemoryEntry, type MemoryState, removeEntry } from "./memoryState.ts"

/** The memory store's leases. */
export type MemoryLeases = Pick<
  DeploymentStoreShape,
  "claim" | "heartbeat" | "release" | "prune" | "discardCreated" | "findMismatched"
>

/** `claim`: the runnable deployments whose lease expired, longest expired first, each one epoch on. */
const claim = (state: MemoryState): DeploymentStoreShape["claim"] => (request) =>
  Effect.sync(() => {
    const runnable = new Set(request.runnable.map((r) => JSON.stringify([r.application, r.action, r.fingerprint])))
    const candidates: Array<MemoryEntry> = []
    for (const entry of state.entries.values()) {
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
  })

/** `heartbeat`: renews the leases the owner still holds on active deployments, and reports their stop flags. */
const heartbeat = (state: MemoryState): DeploymentStoreShape["heartbeat"] => (request) =>
  Effect.sync(() => {
    const held: Array<HeldLease> = []
    for (const id of new Set(request.deploymentIds)) {
      const entry = state.entries.get(id)
      if (entry === undefined) continue
      const row = entry.deployment
      if (row.owner !== request.owner || !isActive(row.status)) continue
      row.leaseExpiresAt = request.now + request.leaseTtlMillis
      held.push({ deploymentId: row.id, epoch: row.leaseEpoch, stopRequested: row.stopRequested })
    }
    return held
  })

/** `discardCreated`: removes a deployment its creator still holds, before its first job got anywhere. */
const discardCreated = (state: MemoryState): DeploymentStoreShape["discardCreated"] => (fence) =>
  Effect.sync(() => {
    const entry = state.entries.get(fence.deploymentId)
    if (entry === undefined) return false
    const row = entry.deployment
    if (!holdsLease(row, fence) || row.currentJob !== 0) return false
    if (row.status !== "running" || entry.jobs[0]?.status !== "running") return false
    removeEntry(state, fence.deploymentId, row)
    return true
  })

/** `findMismatched`: unheld active deployments started by another definition of an action registered now. */
const findMismatched = (state: MemoryState): DeploymentStoreShape["findMismatched"] => (request) =>
  Effect.sync(() => {
    const registered = new Map(request.runnable.map((r) => [JSON.stringify([r.application, r.action]), r.fingerprint]))
    const rows: Array<DeploymentRow> = []
    for (const entry of state.entries.values()) {
      const row = entry.deployment
      if (!isActive(row.status) || row.parked !== undefined) continue
      if (row.leaseExpiresAt !== undefined && row.leaseExpiresAt > request.now) continue
      const fingerprint = registered.get(JSON.stringify([row.application, row.action]))
      if (fingerprint !== undefined && fingerprint !== row.fingerprint) rows.push(copyRow(row))
    }
    return rows.slice(0, request.limit)
  })

/** Builds the memory store's leases on its state. */
export const makeMemoryLeases = (state: MemoryState): MemoryLeases => ({
  claim: claim(state),

  heartbeat: heartbeat(state),

  release: (fence, at) =>
    Effect.sync(() => {
      const entry = state.entries.get(fence.deploymentId)
      if (entry === undefined) return
      const row = entry.deployment
      if (!holdsLease(row, fence)) return
      Object.assign(row, { owner: undefined, leaseExpiresAt: at, updatedAt: at })
    }),

  prune: (before, limit) =>
    Effect.sync(() => {
      let pruned = 0
      for (const [id, entry] of state.entries) {
        if (pruned >= limit) break
        const row = entry.deployment
        if (!isTerminal(row.status) || row.request !== undefined || row.updatedAt >= before) continue
        removeEntry(state, id, row)
        pruned++
      }
      return pruned
    }),

  discardCreated: discardCreated(state),

  findMismatched: findMismatched(state)
})
