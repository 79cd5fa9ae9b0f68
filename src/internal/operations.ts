/**
 * The operators' operations: `stop`, `retry`, `rollback`, `retryRollback`, `restart`, and `bulk`.
 *
 * **How an operation is applied.** It reads the deployment, checks that the operation applies to its status, and
 * then:
 * - in a process that has the action registered (the same definition; for `restart`, the same name), it takes the
 *   deployment over with one compare-and-set write (`DeploymentStore.takeOver`: only if the deployment is still as
 *   it was read), which records the operation in the history and makes this process the lease holder, and runs it
 *   here: forward (`retry`) or backward (`rollback`, `stop`, `retryRollback`). `restart` creates a new deployment.
 * - in a process without the action (the CLI), it records a request on the deployment (`requestOperation`), which a
 *   live process that has the action carries out at its next recovery pass (`carryRequests`), through the same
 *   path; a request that no longer applies there is refused, and the refusal recorded in the history.
 *
 * `stop` of a running deployment is the stop flag, as always: its owner rolls it back, wherever it runs.
 *
 * @internal
 */
import { Clock, Effect, Option, type Schema } from "effect"
import {
  DeploymentNotFound,
  DeploymentNotRunning,
  InputValidationError,
  OperationRefused,
  type OperationRefusedReason,
  type PersistenceError,
  StoredDataCorrupt
} from "../ActionError.ts"
import type * as Actions from "../Actions.ts"
import type { DeploymentStatus, Operation } from "../Deployment.ts"
import type {
  DeploymentRow,
  Json,
  NewHistoryRow,
  RequestRow,
  Runnable,
  Snapshot
} from "../DeploymentStore.ts"
import { parkedError } from "./awaiting.ts"
import { describeSchemaError } from "./codec.ts"
import type { Registration } from "./registration.ts"
import type { RunnerEnv } from "./run.ts"
import { logText } from "./storable.ts"
import {
  appliesTo as statusesOf,
  type Event,
  next,
  progressOf,
  type Refused,
  type Transition,
  type Write
} from "./transitions.ts"
import type { CheckedBulk, CheckedOperation } from "./validateOperations.ts"

/** What the operations need from the runtime. */
export interface OperationsEnv {
  readonly env: RunnerEnv
  /** This process's identity as a lease owner, and as the process that asks for an operation. */
  readonly owner: string
  readonly leaseTtlMillis: number
  /** The registration that can run this deployment here: the same application, action and definition. */
  readonly registrationOf: (row: DeploymentRow) => Registration | undefined
  /** The registration of an `(application, action)` pair, whatever its definition (a restart runs the current one). */
  readonly registrationFor: (application: string, action: string) => Registration | undefined
  /** What this process can run, for finding the requests it can carry out. */
  readonly runnable: () => ReadonlyArray<Runnable>
  /** Runs a deployment this process just took over (its attempt, when forward, is counted already). */
  readonly launch: (reg: Registration, snapshot: Snapshot) => Effect.Effect<void>
  /** Whether a deployment runs in this process now. */
  readonly isRunning: (deploymentId: string) => boolean
  /** Interrupts the local run of a deployment asked to stop; nothing when it does not run here. */
  readonly interruptLocal: (deploymentId: string) => Effect.Effect<void>
  /** Creates (and runs) a restart: a new deployment with the given id, linked to the one it restarts. */
  readonly createRestart: (
    reg: Registration,
    input: Json,
    key: string | undefined,
    id: string,
    restartOf: string
  ) => Effect.Effect<string, PersistenceError>
}

/** An operation to apply: checked arguments, and the pending request it carries out, if it does. */
interface Applied extends CheckedOperation {
  readonly operation: Operation
  readonly request: RequestRow | undefined
}

/** What a takeover writes, besides taking the lease: a checkpoint the transitions computed, and the history. */
interface TakeOverChange {
  readonly checkpoint: Write
  readonly history: NewHistoryRow
}

/** The statuses an operation applies to: those of its transition (`transitions.ts`). */
const appliesTo: Record<Operation, ReadonlyArray<DeploymentStatus>> = {
  stop: statusesOf.StopRequested,
  retry: statusesOf.Retry,
  rollback: statusesOf.Rollback,
  retry_rollback: statusesOf.RetryRollback,
  restart: statusesOf.Restart
}

/** The progress of a stored deployment, as the transitions see it. */
const progressFor = (reg: Registration, snapshot: Snapshot) =>
  progressOf(snapshot, (index) => (reg.jobs[index]?.job.rollbacks.length ?? 0) > 0)

/** Marks an operation this process cannot carry out, met while carrying out requests: left for another process. */
class NotHere {
  readonly _tag = "NotHere"
}

/** Builds the operations of a runtime. */
export const makeOperations = (deps: OperationsEnv) => {
  const { env, owner } = deps
  const store = env.store

  const refused = (applied: Applied, row: DeploymentRow, reason: typeof OperationRefusedReason.Type, detail: string) =>
    new OperationRefused({
      deploymentId: row.id,
      operation: applied.operation,
      reason,
      status: row.status,
      detail
    })

  /** The operation refused for what the transitions refused (the status was checked before: a job's record). */
  const refusedBy = (applied: Applied, row: DeploymentRow, refusal: Refused) =>
    refused(applied, row, refusal.reason === "nothing_to_retry" ? "nothing_to_retry" : "status", refusal.detail)

  /** The checkpoint a transition computed, or the operation refused. */
  const checkpointOf = (applied: Applied, row: DeploymentRow, result: Transition): Effect.Effect<Write, OperationRefused> => {
    if (result._tag === "Refused") return Effect.fail(refusedBy(applied, row, result))
    if (result.checkpoint === undefined) return Effect.die(new Error(`the ${applied.operation} transition writes nothing`))
    return Effect.succeed(result.checkpoint)
  }

  /** The checkpoint of an operator's transition of a snapshot, or the operation refused. */
  const transitionOf = (applied: Applied, reg: Registration, snapshot: Snapshot, event: Event) =>
    checkpointOf(applied, snapshot.deployment, next(progressFor(reg, snapshot), event))

  const read = (deploymentId: string) =>
    Effect.flatMap(env.retryTransient(store.get(deploymentId)), (found) =>
      Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new DeploymentNotFound({ deploymentId })))

  /** The history entry of an operation; carried out for a request, it names the process that asked. */
  const historyRow = (
    applied: Applied,
    outcome: NewHistoryRow["outcome"],
    at: number,
    fields: { readonly job?: string; readonly message?: string; readonly detail?: Json }
  ): NewHistoryRow => {
    const message = applied.request === undefined || outcome === "refused"
      ? fields.message
      : `carried out by ${owner}${fields.message === undefined ? "" : `; ${fields.message}`}`
    return {
      operation: applied.operation,
      outcome,
      by: applied.request?.by ?? owner,
      at,
      reason: applied.reason,
      job: fields.job,
      message: message === undefined ? undefined : logText(message),
      detail: fields.detail
    }
  }

  const receipt = (
    applied: Applied,
    outcome: Actions.OperationReceipt["outcome"],
    restartedAs?: string
  ): Actions.OperationReceipt => ({
    deploymentId: applied.deploymentId,
    operation: applied.operation,
    outcome,
    restartedAs: Option.fromUndefinedOr(restartedAs)
  })

  /**
   * Takes the deployment over as it was read, applying the operation's patches, and runs it here. A takeover whose
   * reply was lost and that committed all the same is recognised (the deployment is ours, one epoch on).
   */
  const takeOver = (
    applied: Applied,
    reg: Registration,
    row: DeploymentRow,
    at: number,
    change: TakeOverChange
  ) =>
    Effect.suspend(() => {
      // One takeover of a deployment at a time in this process: a second one would take a lost reply of the first
      // for its own.
      if (taking.has(row.id)) {
        return Effect.fail(refused(applied, row, "changed", "another operation on this deployment is being applied"))
      }
      taking.add(row.id)
      return Effect.ensuring(takeOverOnce(applied, reg, row, at, change), Effect.sync(() => taking.delete(row.id)))
    })

  const taking = new Set<string>()

  const takeOverOnce = (
    applied: Applied,
    reg: Registration,
    row: DeploymentRow,
    at: number,
    change: TakeOverChange
  ) =>
    Effect.gen(function*() {
      const result = yield* env.retryTransient(store.takeOver({
        deploymentId: row.id,
        expect: {
          status: row.status,
          leaseEpoch: row.leaseEpoch,
          ...(applied.request === undefined ? {} : { requestId: applied.request.id })
        },
        owner,
        now: at,
        leaseTtlMillis: deps.leaseTtlMillis,
        at,
        deployment: change.checkpoint.deployment,
        jobs: change.checkpoint.jobs,
        errors: change.checkpoint.errors,
        history: change.history
      }))
      if (result._tag === "NotFound") return yield* new DeploymentNotFound({ deploymentId: row.id })
      let snapshot: Snapshot
      if (result._tag === "Changed") {
        const now = result.deployment
        const ours = now.owner === owner && now.leaseEpoch === row.leaseEpoch + 1 && !deps.isRunning(row.id)
        if (!ours) {
          return yield* refused(applied, now, "changed", "the deployment changed while the operation was applied: read it again")
        }
        snapshot = yield* read(row.id)
      } else {
        snapshot = result.snapshot
      }
      yield* deps.launch(reg, snapshot)
      yield* Effect.logInfo(`${applied.operation} of deployment ${row.id} carried out`)
      return receipt(applied, "done")
    })

  const invalidInput = (reg: Registration, index: number) => (error: Schema.SchemaError) =>
    new InputValidationError({ action: reg.action.name, job: reg.jobs[index]!.job.name, ...describeSchemaError(error) })

  /** `retry`: the failed job of a paused deployment runs again, with its input, a replacement, or the previous output. */
  const retryHere = (applied: Applied, reg: Registration, snapshot: Snapshot, at: number) =>
    Effect.gen(function*() {
      const row = snapshot.deployment
      const index = row.currentJob
      const compiled = reg.jobs[index]!
      const record = snapshot.jobs[index]!
      const progress = progressFor(reg, snapshot)
      // Whether it applies is judged before any input is made (a job without an input gets one made below).
      const stored = next(progress, { _tag: "Retry", at, input: record.input })
      if (stored._tag === "Refused" && stored.reason !== "input") return yield* refusedBy(applied, row, stored)
      const replaced = applied.input !== undefined
      const retried = !replaced && stored._tag === "Next"
        ? stored
        : next(progress, { _tag: "Retry", at, input: yield* retryInput(applied, reg, snapshot) })
      const checkpoint = yield* checkpointOf(applied, row, retried)
      return yield* takeOver(applied, reg, row, at, {
        checkpoint,
        history: historyRow(applied, "done", at, {
          job: compiled.job.name,
          ...(replaced
            ? {
              message: "with a replacement input",
              detail: { replacedInput: record.input === undefined ? null : record.input }
            }
            : {})
        })
      })
    })

  /** The input a retried job runs with: the replacement, or made again from the previous job's output. */
  const retryInput = (applied: Applied, reg: Registration, snapshot: Snapshot) =>
    Effect.gen(function*() {
      const row = snapshot.deployment
      const index = row.currentJob
      const compiled = reg.jobs[index]!
      if (applied.input !== undefined) {
        const decoded = yield* Effect.mapError(compiled.input.decode(applied.input.value), invalidInput(reg, index))
        return yield* Effect.mapError(compiled.input.encode(decoded), invalidInput(reg, index))
      }
      const record = snapshot.jobs[index]!
      if (record.input !== undefined) return record.input
      // The job failed before it got an input (the previous output did not fit it): it is made again.
      const previous = reg.jobs[index - 1]!
      const output = yield* Effect.mapError(
        previous.output.decode(snapshot.jobs[index - 1]!.output),
        (error) =>
          new StoredDataCorrupt({
            deploymentId: row.id,
            job: previous.job.name,
            field: "output",
            issue: describeSchemaError(error).issue
          })
      )
      const input = yield* Effect.mapError(compiled.input.encode(output), invalidInput(reg, index))
      yield* Effect.mapError(compiled.input.decode(input), invalidInput(reg, index))
      return input
    })

  /** `stop` of a paused deployment: it rolls back with `ExecutionStopped` as its failure. */
  const stopPausedHere = (applied: Applied, reg: Registration, snapshot: Snapshot, at: number) =>
    Effect.flatMap(transitionOf(applied, reg, snapshot, { _tag: "StopRequested", at }), (checkpoint) =>
      takeOver(applied, reg, snapshot.deployment, at, {
        checkpoint,
        history: historyRow(applied, "done", at, { job: reg.jobs[snapshot.deployment.currentJob]!.job.name })
      }))

  /** `retryRollback`: the failed rollbacks get back the status they had before, and the rollback runs again. */
  const retryRollbackHere = (applied: Applied, reg: Registration, snapshot: Snapshot, at: number) =>
    Effect.flatMap(transitionOf(applied, reg, snapshot, { _tag: "RetryRollback", at }), (checkpoint) =>
      takeOver(applied, reg, snapshot.deployment, at, {
        checkpoint,
        history: historyRow(applied, "done", at, {
          message: `rollbacks of ${checkpoint.jobs.map((job) => `"${snapshot.jobs[job.index]!.name}"`).join(", ")}`
        })
      }))

  /** `restart`: a new deployment of the action, as registered here, with the same first input. */
  const restartHere = (applied: Applied, reg: Registration, snapshot: Snapshot, at: number) =>
    Effect.gen(function*() {
      const row = snapshot.deployment
      const first = reg.jobs[0]!
      const stored = snapshot.jobs[0]?.input
      const decoded = yield* Effect.mapError(first.input.decode(stored), invalidInput(reg, 0))
      const input = yield* Effect.mapError(first.input.encode(decoded), invalidInput(reg, 0))
      const id = applied.request?.restartId ?? crypto.randomUUID()
      const restartedAs = yield* deps.createRestart(reg, input, applied.key, id, row.id)
      const recorded = yield* env.retryTransient(store.recordOperation(
        row.id,
        historyRow(applied, "done", at, { message: `restarted as ${restartedAs}`, detail: { restartedAs } }),
        applied.request?.id
      ))
      if (!recorded && applied.request !== undefined) {
        return yield* refused(applied, row, "changed", "the request was carried out or replaced meanwhile")
      }
      return receipt(applied, "done", restartedAs)
    })

  /** Records the operation as a request for a process that has the action. */
  const request = (applied: Applied, snapshot: Snapshot, at: number) =>
    Effect.gen(function*() {
      const row = snapshot.deployment
      const restartId = applied.operation === "restart" ? crypto.randomUUID() : undefined
      const job = applied.operation === "retry" ? snapshot.jobs[row.currentJob]?.name : undefined
      const result = yield* env.retryTransient(store.requestOperation({
        deploymentId: row.id,
        statuses: applied.operation === "stop" ? ["paused"] : appliesTo[applied.operation],
        request: {
          id: crypto.randomUUID(),
          operation: applied.operation,
          by: owner,
          at,
          ...(applied.reason === undefined ? {} : { reason: applied.reason }),
          ...(applied.input === undefined ? {} : { input: applied.input.value as Json }),
          ...(restartId === undefined ? {} : { restartId }),
          ...(applied.key === undefined ? {} : { key: applied.key })
        },
        history: historyRow(applied, "requested", at, {
          ...(job === undefined ? {} : { job }),
          message: "this process does not have the action: a process that has it carries the operation out"
        })
      }))
      switch (result._tag) {
        case "NotFound":
          return yield* new DeploymentNotFound({ deploymentId: row.id })
        case "Parked":
          return yield* parkedError(row.id, result.parked)
        case "Refused":
          return yield* result.pending === undefined
            ? refused(applied, { ...row, status: result.status }, "status", "its status changed meanwhile")
            : refused(applied, { ...row, status: result.status }, "request_pending", pendingText(result.pending))
        case "Requested":
          yield* Effect.logInfo(`${applied.operation} of deployment ${row.id} requested`)
          return receipt(applied, "requested", restartId)
      }
    })

  const pendingText = (pending: RequestRow) =>
    `a ${pending.operation} requested by ${pending.by} is not carried out yet`

  /** `stop` of a running deployment: the stop flag, which its owner sees wherever it runs. */
  const stopRunning = (applied: Applied, at: number) =>
    Effect.gen(function*() {
      const result = yield* env.retryTransient(
        store.requestStop(applied.deploymentId, at, historyRow(applied, "done", at, {}))
      )
      switch (result._tag) {
        case "NotFound":
          return yield* new DeploymentNotFound({ deploymentId: applied.deploymentId })
        case "Parked":
          return yield* parkedError(applied.deploymentId, result.parked)
        case "NotRunning":
          return Option.some(result.status)
        case "Requested":
          yield* deps.interruptLocal(applied.deploymentId)
          yield* Effect.logInfo(`stop requested for deployment ${applied.deploymentId}`)
          return Option.none()
      }
    })

  /** Applies one operation: here when this process has the action, else as a request. */
  const apply = (
    applied: Applied,
    attempt = 0
  ): Effect.Effect<
    Actions.OperationReceipt,
    | DeploymentNotFound
    | DeploymentNotRunning
    | OperationRefused
    | StoredDataCorrupt
    | InputValidationError
    | PersistenceError
    | NotHere
  > =>
    Effect.gen(function*() {
      const snapshot = yield* read(applied.deploymentId)
      const row = snapshot.deployment
      const at = yield* Clock.currentTimeMillis
      if (row.parked !== undefined) return yield* parkedError(row.id, row.parked)
      const pending = row.request
      if (applied.request !== undefined && pending?.id !== applied.request.id) {
        return yield* refused(applied, row, "changed", "the request was carried out or replaced meanwhile")
      }
      if (applied.request === undefined && pending !== undefined) {
        return yield* refused(applied, row, "request_pending", pendingText(pending))
      }
      if (applied.operation === "stop" && row.status === "running" && applied.request === undefined) {
        const notRunning = yield* stopRunning(applied, at)
        if (Option.isNone(notRunning)) return receipt(applied, "done")
        // It paused or ended between the read and the stop: the operation is judged again, once.
        if (attempt === 0) return yield* apply(applied, 1)
        return yield* new DeploymentNotRunning({ deploymentId: row.id, status: notRunning.value })
      }
      if (!appliesTo[applied.operation].includes(row.status) || (applied.operation === "stop" && row.status === "running")) {
        if (applied.operation === "stop") return yield* new DeploymentNotRunning({ deploymentId: row.id, status: row.status })
        return yield* refused(
          applied,
          row,
          "status",
          `${applied.operation} applies to a ${appliesTo[applied.operation].join(" or ")} deployment`
        )
      }
      const reg = applied.operation === "restart"
        ? deps.registrationFor(row.application, row.action)
        : deps.registrationOf(row)
      if (reg === undefined) {
        if (applied.request !== undefined) return yield* Effect.fail(new NotHere())
        return yield* request(applied, snapshot, at)
      }
      switch (applied.operation) {
        case "retry":
          return yield* retryHere(applied, reg, snapshot, at)
        case "rollback":
          return yield* takeOver(applied, reg, row, at, {
            checkpoint: yield* transitionOf(applied, reg, snapshot, { _tag: "Rollback", at }),
            history: historyRow(applied, "done", at, { job: reg.jobs[row.currentJob]!.job.name })
          })
        case "stop":
          return yield* stopPausedHere(applied, reg, snapshot, at)
        case "retry_rollback":
          return yield* retryRollbackHere(applied, reg, snapshot, at)
        case "restart":
          return yield* restartHere(applied, reg, snapshot, at)
      }
    })

  /** Applies an operation asked in this process. */
  const operate = (operation: Operation, checked: CheckedOperation) =>
    Effect.catchIf(
      apply({ ...checked, operation, request: undefined }),
      (error): error is NotHere => error instanceof NotHere,
      // Never met without a request: a process without the action records a request instead.
      () => Effect.die(new Error("an operation without a request was left for another process"))
    )

  /**
   * Carries out the pending requests this process can (its recovery pass calls it). A request that does not apply
   * any more is refused: the refusal is recorded in the history, and the request cleared. Returns the ids of the
   * deployments whose request was carried out.
   */
  const carryRequests = (limit: number) =>
    Effect.gen(function*() {
      const runnable = deps.runnable()
      if (runnable.length === 0 || limit <= 0) return []
      const rows = yield* store.findRequests({ runnable, limit })
      const carried: Array<string> = []
      for (const row of rows) {
        const pending = row.request
        if (pending === undefined) continue
        const applied: Applied = {
          operation: pending.operation,
          deploymentId: row.id,
          reason: pending.reason,
          input: pending.input === undefined ? undefined : { value: pending.input },
          key: pending.key,
          request: pending
        }
        const result = yield* Effect.result(apply(applied))
        if (result._tag === "Success") {
          carried.push(row.id)
          continue
        }
        const error = result.failure
        if (error instanceof NotHere || (error instanceof OperationRefused && error.reason === "changed")) continue
        if (error._tag === "PersistenceError") {
          yield* Effect.logWarning(`carrying out the ${pending.operation} request of deployment ${row.id} failed`, error)
          continue
        }
        const at = yield* Clock.currentTimeMillis
        yield* Effect.logWarning(`the ${pending.operation} request of deployment ${row.id} is refused: ${error.message}`)
        yield* Effect.ignore(env.retryTransient(store.recordOperation(
          row.id,
          historyRow(applied, "refused", at, { message: error.message }),
          pending.id
        )))
      }
      return carried
    })

  /** The deployments a bulk operation applies to, read page by page. */
  const matching = (checked: CheckedBulk) =>
    Effect.gen(function*() {
      const ids: Array<string> = []
      let cursor: string | undefined
      do {
        const page = yield* env.retryTransient(store.list({
          statuses: checked.statuses ?? appliesTo[checked.operation],
          limit: bulkBatch,
          ...(checked.application === undefined ? {} : { application: checked.application }),
          ...(checked.action === undefined ? {} : { action: checked.action }),
          ...(checked.createdBefore === undefined ? {} : { createdBefore: checked.createdBefore }),
          ...(checked.createdAfter === undefined ? {} : { createdAfter: checked.createdAfter }),
          ...(cursor === undefined ? {} : { cursor })
        }))
        for (const item of page.items) ids.push(item.id)
        cursor = page.next
      } while (cursor !== undefined)
      return ids
    })

  /** Applies an operation to every deployment that matches a filter, a batch at a time. */
  const bulk = (checked: CheckedBulk) =>
    Effect.gen(function*() {
      const ids = yield* matching(checked)
      const result = { operation: checked.operation, dryRun: checked.dryRun, matched: ids.length, ids }
      if (checked.dryRun) return { ...result, items: [] }
      const items: Array<Actions.BulkItem> = []
      for (let start = 0; start < ids.length; start += bulkBatch) {
        const batch = ids.slice(start, start + bulkBatch)
        const done = yield* Effect.forEach(batch, (deploymentId) =>
          operate(checked.operation, { deploymentId, reason: checked.reason, input: undefined, key: undefined }).pipe(
            Effect.map((receipt): Actions.BulkItem => ({ deploymentId, outcome: receipt.outcome, message: Option.none() })),
            // A deployment the operation does not apply to is reported; a store failure stops the bulk operation
            // (what was done stays done, and no longer matches when it is run again).
            Effect.catchIf(
              (error) => error._tag !== "PersistenceError",
              (error): Effect.Effect<Actions.BulkItem> =>
                Effect.succeed({ deploymentId, outcome: "refused", message: Option.some(error.message) })
            )
          ), { concurrency: bulkConcurrency })
        items.push(...done)
      }
      return { ...result, items }
    })

  return { operate, carryRequests, bulk }
}

/** How many deployments a bulk operation reads, and acts on, at a time. */
const bulkBatch = 100

/** How many deployments of a batch a bulk operation acts on at once. */
const bulkConcurrency = 8

