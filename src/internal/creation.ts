/**
 * Creating a deployment: the snapshot written before any job runs, and a create that is safe to repeat.
 *
 * The deployment id is made here, by the client, so that a create whose reply was lost can be repeated: the
 * store recognises the id and answers with what it holds. `start` repeats transient failures itself; when they
 * do not pass, the create may have committed all the same, so the deployment is discarded in the background
 * (while this process still holds its first lease, before any job ran) and `start` fails: a failed `start` means
 * that no deployment runs. A later `start` with the same key, in this process, takes the deployment back instead.
 * When the runtime is released, each discard still pending gets one last attempt, and one that fails after the
 * release is tried once at once: only a store that fails that attempt too leaves the deployment to resume elsewhere.
 *
 * @internal
 */
import { Effect, Fiber, Schedule, type Schema, type Scope } from "effect"
import type { PersistenceError } from "../ActionError.ts"
import type { DeploymentStoreShape, Fence, Snapshot } from "../DeploymentStore.ts"
import type { Registration } from "./registration.ts"
import type { RunnerEnv } from "./run.ts"
import { whileOpen } from "./shutdown.ts"
import { retryTransient } from "./transient.ts"

/** A restart's id, chosen before it is created (a request names it), and the deployment it restarts. */
export interface Link {
  readonly id: string
  readonly restartOf: string
}

/** The snapshot of a new deployment: its row, and its job records with the first job started. */
export const newSnapshot = (
  reg: Registration,
  input: Schema.Json,
  key: string | undefined,
  owner: string,
  at: number,
  leaseTtlMillis: number,
  link?: Link
): Snapshot => ({
  deployment: {
    id: link?.id ?? crypto.randomUUID(),
    application: reg.application,
    action: reg.action.name,
    key,
    fingerprint: reg.action.fingerprint,
    status: "running",
    currentJob: 0,
    state: reg.state?.initial,
    output: undefined,
    failure: undefined,
    owner,
    leaseEpoch: 1,
    leaseExpiresAt: at + leaseTtlMillis,
    stopRequested: false,
    resumes: 0,
    parked: undefined,
    restartOf: link?.restartOf,
    request: undefined,
    createdAt: at,
    updatedAt: at
  },
  jobs: reg.jobs.map((job) => ({
    index: job.index,
    name: job.job.name,
    status: job.index === 0 ? "running" : "pending",
    input: job.index === 0 ? input : undefined,
    output: undefined,
    attempts: job.index === 0 ? 1 : 0,
    startedAt: job.index === 0 ? at : undefined,
    finishedAt: undefined
  }))
})

/** What creating needs from the runtime. */
export interface CreationEnv {
  readonly env: RunnerEnv
  readonly owner: string
  readonly leaseTtlMillis: number
  /** Where the background discards run (the runtime's scope). */
  readonly scope: Scope.Scope
  /** Runs a created deployment in this process. */
  readonly launch: (reg: Registration, snapshot: Snapshot) => Effect.Effect<void>
  /** Whether a deployment runs in this process now. */
  readonly isRunning: (deploymentId: string) => boolean
}

/** The creates of this process that failed ambiguously, by deployment id, while their discard is pending. */
interface Pending {
  readonly snapshot: Snapshot
  readonly discard: Fiber.Fiber<void>
}

/**
 * Builds the create of the runtime: `create(reg, input, key)` returns the id of the new (or joined) deployment;
 * `discardPending` is the last attempt at the discards still pending when the runtime is released.
 */
export const makeCreate = (deps: CreationEnv) => {
  const { env, leaseTtlMillis, owner } = deps
  const store: DeploymentStoreShape = env.store
  const pending = new Map<string, Pending>()
  const options = { leaseTtlMillis }

  const fenceOf = (snapshot: Snapshot): Fence => ({ deploymentId: snapshot.deployment.id, owner, epoch: 1 })

  /** Says what a discard found. */
  const reportDiscard = (snapshot: Snapshot, deleted: boolean) =>
    Effect.logInfo(
      deleted
        ? `discarded deployment ${snapshot.deployment.id}, whose start failed`
        : `deployment ${snapshot.deployment.id}, whose start failed, was not stored`
    )

  /**
   * Deletes a deployment whose create may have committed, until the store answers; never fails. An interrupted
   * discard (the runtime released) stays pending, for the last attempt of `discardPending`.
   */
  const discard = (snapshot: Snapshot) =>
    store.discardCreated(fenceOf(snapshot)).pipe(
      // Every 100 ms at first, then less and less often, at least every 5 s: the sooner, the less likely another
      // process takes the deployment over once the first lease lapses.
      Effect.retry({ schedule: Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("5 seconds")]) }),
      Effect.orElseSucceed(() => false),
      Effect.flatMap((deleted) => reportDiscard(snapshot, deleted)),
      Effect.andThen(Effect.sync(() => {
        pending.delete(snapshot.deployment.id)
      }))
    )

  /** One attempt at a discard, once the runtime is released (nothing retries it after); never fails. */
  const discardOnce = (snapshot: Snapshot) =>
    retryTransient(store.discardCreated(fenceOf(snapshot))).pipe(
      Effect.flatMap((deleted) => reportDiscard(snapshot, deleted)),
      Effect.catch((error) =>
        Effect.logWarning(
          `deployment ${snapshot.deployment.id}, whose start failed, could not be discarded: it resumes elsewhere ` +
            "once its lease lapses",
          error
        )
      )
    )

  /** Writes the snapshot (repeating transient failures) and runs it unless it existed already. */
  const createSnapshot = (reg: Registration, snapshot: Snapshot): Effect.Effect<string, PersistenceError> =>
    Effect.gen(function*(): Effect.fn.Return<string, PersistenceError> {
      const id = snapshot.deployment.id
      const write = whileOpen(deps.scope)(retryTransient(store.create(snapshot, options)))
      const result = yield* Effect.catch(write, (error) =>
        Effect.gen(function*() {
          // Whatever the failure, the create may have committed (a lost reply, a reply that did not decode): the
          // deployment is discarded unless the store answers that it holds none. Once the runtime is released,
          // nothing would run a discard in the background: it is tried here, once.
          if (deps.scope.state._tag === "Closed") {
            yield* discardOnce(snapshot)
            return yield* Effect.fail(error)
          }
          const fiber = yield* Effect.forkIn(discard(snapshot), deps.scope)
          pending.set(id, { snapshot, discard: fiber })
          return yield* Effect.fail(error)
        }))
      if (result._tag === "Created") {
        yield* deps.launch(reg, snapshot)
        return id
      }
      const existing = result.snapshot.deployment
      if (existing.id === id) {
        // A repeat of this create whose first reply was lost: the deployment is ours, not run yet.
        if (existing.owner === owner && existing.leaseEpoch === 1 && !deps.isRunning(id)) {
          yield* deps.launch(reg, result.snapshot)
        }
        return id
      }
      const left = pending.get(existing.id)
      if (left !== undefined) {
        // The same key as a start of this process that failed: its discard stops, and the deployment is taken back
        // (created again if the discard had deleted it already). Once the runtime is released (now, or while the take
        // back is under way), nothing would run it: it is discarded, as its failed start asked, and this start is
        // interrupted, like any start of a released runtime.
        pending.delete(existing.id)
        yield* Fiber.interrupt(left.discard)
        const giveUp = Effect.suspend(() => deps.isRunning(existing.id) ? Effect.void : discardOnce(left.snapshot))
        if (deps.scope.state._tag === "Closed") return yield* Effect.andThen(giveUp, Effect.interrupt)
        return yield* Effect.onInterrupt(createSnapshot(reg, left.snapshot), () => giveUp)
      }
      return existing.id
    })

  const create = (
    reg: Registration,
    input: Schema.Json,
    key: string | undefined,
    link?: Link
  ): Effect.Effect<string, PersistenceError> =>
    Effect.clockWith((clock) =>
      createSnapshot(reg, newSnapshot(reg, input, key, owner, clock.currentTimeMillisUnsafe(), leaseTtlMillis, link))
    )

  /**
   * The last attempt at each discard still pending, for the release of the runtime: a finalizer of the scope of runs,
   * added before any discard is forked into it, so that it runs once they were interrupted.
   */
  const discardPending = Effect.suspend(() =>
    Effect.forEach(Array.from(pending.values()), (left) => discardOnce(left.snapshot), { discard: true })
  )

  return { create, discardPending }
}
