/**
 * The memory store's writes of a run: `create`, the fenced `checkpoint`, `appendErrors` and `setJobData`, and
 * `appendErrorOnce`. Each refuses first what PostgreSQL refuses.
 *
 * @internal
 */
import { Effect } from "effect"
import type { PersistenceError } from "../ActionError.ts"
import type { CreateResult, DeploymentStoreShape, NewErrorRow } from "../DeploymentStore.ts"
import {
  appendErrors,
  applyPatches,
  copySnapshot,
  dataKeyOf,
  fencedWrite,
  keyOf,
  type MemoryState
} from "./memoryState.ts"
import { unstorableValue } from "./storable.ts"

/** The memory store's writes. */
export type MemoryWrites = Pick<
  DeploymentStoreShape,
  "create" | "checkpoint" | "appendErrors" | "setJobData" | "appendErrorOnce"
>

/** `create`: the deployment and its job records, once per id and per `(application, action, key)`. */
const create = (state: MemoryState): DeploymentStoreShape["create"] => (snapshot) =>
  Effect.suspend((): Effect.Effect<CreateResult, PersistenceError> => {
    const { deployment } = snapshot
    const refused = unstorableValue("create", snapshot)
    if (refused !== undefined) return Effect.fail(refused)
    const repeated = state.entries.get(deployment.id)
    if (repeated !== undefined) return Effect.succeed({ _tag: "Existing", snapshot: copySnapshot(repeated) })
    const composite = deployment.key === undefined
      ? undefined
      : keyOf(deployment.application, deployment.action, deployment.key)
    if (composite !== undefined) {
      const existing = state.byKey.get(composite)
      const entry = existing === undefined ? undefined : state.entries.get(existing)
      if (entry !== undefined) return Effect.succeed({ _tag: "Existing", snapshot: copySnapshot(entry) })
      state.byKey.set(composite, deployment.id)
    }
    state.entries.set(deployment.id, {
      deployment: { ...deployment },
      jobs: snapshot.jobs.map((job) => ({ ...job })),
      errors: [],
      history: [],
      data: new Map()
    })
    return Effect.succeed({ _tag: "Created" })
  })

/** Appends an error once: not when the deployment's log has an entry with the same tag and message. */
const appendOnce = (state: MemoryState, deploymentId: string, error: NewErrorRow): boolean => {
  const entry = state.entries.get(deploymentId)
  if (entry === undefined) return false
  if (entry.errors.some((e) => e.tag === error.tag && e.message === error.message)) return false
  appendErrors(state, entry, [error])
  return true
}

/** Builds the memory store's writes on its state. */
export const makeMemoryWrites = (state: MemoryState): MemoryWrites => ({
  create: create(state),

  checkpoint: (checkpoint) =>
    fencedWrite(state, "checkpoint", checkpoint, checkpoint.fence, (entry) => {
      const { stopRequest } = checkpoint.deployment
      // A pause's stop request is recorded if a stop was asked meanwhile and no request is pending.
      const overStop = stopRequest !== undefined && entry.deployment.stopRequested && entry.deployment.request === undefined
      const row = applyPatches(entry, checkpoint.deployment, checkpoint.jobs, checkpoint.at)
      if (overStop) row.request = structuredClone(stopRequest)
      appendErrors(state, entry, checkpoint.errors)
      return { stopRequested: row.stopRequested }
    }),

  appendErrors: (fence, errors) =>
    fencedWrite(state, "appendErrors", errors, fence, (entry) => appendErrors(state, entry, errors)),

  setJobData: (fence, job, key, value) =>
    fencedWrite(state, "setJobData", [job, key, value], fence, (entry) => {
      entry.data.set(dataKeyOf(job, key), value)
    }),

  appendErrorOnce: (deploymentId, error) =>
    Effect.suspend(() => {
      const refused = unstorableValue("appendErrorOnce", error)
      return refused === undefined ? Effect.sync(() => appendOnce(state, deploymentId, error)) : Effect.fail(refused)
    })
})
