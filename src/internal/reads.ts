/**
 * Reading deployments through the runtime: `get` (with its job records and history), `list` (a page, its rows that
 * do not decode reported apart), `counts`, `jobData` and `errors`, each decoded from the store's encoded rows and
 * retried on transient store failures; a deployment the store does not hold is a `DeploymentNotFound`.
 *
 * @internal
 */
import { Effect, Option } from "effect"
import { DeploymentNotFound, StoredDataCorrupt } from "../ActionError.ts"
import type { ActionsShape, ListOptions } from "../Actions.ts"
import type { Deployment } from "../Deployment.ts"
import type { Snapshot } from "../DeploymentStore.ts"
import { toDeployment, toDeploymentWithoutJobs, toErrorEntries } from "./outcomes.ts"
import type { RunnerEnv } from "./run.ts"
import * as Validate from "./validate.ts"
import { retryTransient } from "./transient.ts"

/** Where each of `counts`' counts stops. */
const countLimit = 10_000

/** Reads a deployment's snapshot, or fails with `DeploymentNotFound`. */
export const readSnapshot = (env: RunnerEnv) => (deploymentId: string) =>
  Effect.flatMap(retryTransient(env.store.get(deploymentId)), (found) =>
    Option.isSome(found)
      ? Effect.succeed<Snapshot>(found.value)
      : Effect.fail(new DeploymentNotFound({ deploymentId })))

/** The entry points of the runtime that read deployments. */
export type ReadMethods = Pick<ActionsShape, "get" | "list" | "counts" | "jobData" | "errors">

/** Builds the entry points that read deployments. Each checks its arguments first (`validate.ts`). */
export const makeReads = (env: RunnerEnv): ReadMethods => {
  const { store } = env
  const read = readSnapshot(env)
  return {
    get: Effect.fn("Actions.get")(function*(deploymentId: string) {
      const snapshot = yield* read(yield* Validate.deploymentIdArgument("get", deploymentId))
      return yield* toDeployment(snapshot, yield* retryTransient(store.history(snapshot.deployment.id)))
    }),
    list: Effect.fn("Actions.list")(function*(listOptions?: ListOptions) {
      const query = yield* Validate.listOptionsArgument(listOptions)
      const page = yield* retryTransient(store.list(query))
      const items: Array<Deployment> = []
      const unreadable: Array<StoredDataCorrupt> = (page.unreadable ?? []).map(({ id, issue }) =>
        new StoredDataCorrupt({ deploymentId: id, field: "deployment record", issue })
      )
      for (const row of page.items) {
        const decoded = yield* Effect.result(toDeploymentWithoutJobs(row))
        if (decoded._tag === "Success") items.push(decoded.success)
        else unreadable.push(decoded.failure)
      }
      return { items, next: Option.fromUndefinedOr(page.next), unreadable }
    }),
    counts: Effect.fn("Actions.counts")(function*(filter?: { readonly application?: string; readonly action?: string }) {
      const checked = yield* Validate.countsArgument(filter)
      const counts = yield* retryTransient(store.counts({ ...checked, limit: countLimit }))
      return { counts, atMost: countLimit }
    }),
    jobData: Effect.fn("Actions.jobData")(function*(deploymentId: string) {
      const id = yield* Validate.deploymentIdArgument("jobData", deploymentId)
      const rows = yield* retryTransient(store.jobData(id))
      if (rows.length === 0) yield* read(id)
      return rows
    }),
    errors: Effect.fn("Actions.errors")(function*(deploymentId: string, errorOptions?: { readonly job?: string }) {
      const id = yield* Validate.deploymentIdArgument("errors", deploymentId)
      const { job } = yield* Validate.errorsOptionsArgument(errorOptions)
      const rows = yield* retryTransient(store.errors(id, job))
      if (rows.length === 0) yield* read(id)
      return yield* toErrorEntries(id, rows)
    })
  }
}
