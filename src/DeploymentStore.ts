/**
 * The persistence contract of effect-actions, and its in-memory implementation.
 *
 * A `DeploymentStore` keeps deployments, their job records, job data and error logs. It sees only encoded values
 * (the `Encoded` side of the models in `Deployment`: JSON-compatible data, strings, numbers, epoch milliseconds):
 * schema encoding and decoding happen once, in the runtime, so a new backend implements storage only.
 *
 * **Guarantees every implementation gives** (checked by `DeploymentStoreSuite` from `effect-actions/testing`):
 * - `create` is idempotent by `(application, action, key)` and by deployment id: a second create with the same
 *   key, or a repeat of a create whose reply was lost (same id), returns the existing deployment and writes
 *   nothing;
 * - `checkpoint` is one atomic write (all of it or nothing), fenced: it applies only while the writer still holds
 *   the lease (`owner` and `leaseEpoch` match), and fails with `LeaseLost` otherwise;
 * - `claim` hands a deployment whose lease expired to exactly one caller, and bumps its lease epoch, so the
 *   previous owner's writes are refused from then on;
 * - `claim` never hands out a parked deployment, and counts each claim in the deployment's `resumes`;
 * - error logs are append-only and keep their order;
 * - reads return copies: nothing a caller does to a returned value changes the store;
 * - a value is stored exactly, or refused with a `PersistenceError` of reason `invalid` (never another reason,
 *   never altered): a write that can never succeed must say so, so that the runtime does not retry it forever.
 *
 * **Clocks.** Lease expiry is judged on one clock for all processes. A store with a clock of its own (a database
 * server) sets and compares lease expiries on that clock and ignores the `now` and `at` values it is given for
 * them; a store without one (the memory store) uses them, so that `TestClock` drives it. Other timestamps
 * (`createdAt`, `updatedAt`, job times, error times) are the runtime's.
 *
 * @since 0.1.0
 */
import { Context, type Effect, Layer, type Option, type Stream } from "effect"
import type { LeaseLost, PersistenceError } from "./ActionError.ts"
import * as Deployment from "./Deployment.ts"
import type { DeploymentStatus } from "./Deployment.ts"
import * as Cursor from "./internal/listCursor.ts"
import { makeMemoryStore } from "./internal/memoryStore.ts"
import type { Checkpoint, CheckpointResult, Fence } from "./internal/storeCheckpoint.ts"
import type {
  OperationRequestResult,
  OperationRequestWrite,
  RequestQuery,
  StopResult,
  TakeOver,
  TakeOverResult
} from "./internal/storeOperations.ts"
import type {
  DeploymentRow,
  ErrorRow,
  HistoryRow,
  JobDataRow,
  Json,
  NewErrorRow,
  NewHistoryRow,
  Snapshot,
  StatusRow,
  UnreadableRow
} from "./internal/storeRows.ts"

// The models of the contract live in src/internal/ by part, each export documented there, and are exported from
// here: the rows (storeRows.ts), the checkpoint (storeCheckpoint.ts), the operators' writes (storeOperations.ts).

// rows: the encoded models, as stored
export type {
  AttemptRow,
  DeploymentRow,
  ErrorRow,
  FailureRow,
  HistoryRow,
  JobDataRow,
  JobRunRow,
  Json,
  NewErrorRow,
  NewHistoryRow,
  ParkedRow,
  RequestRow,
  Snapshot,
  StatusRow,
  UnreadableRow
} from "./internal/storeRows.ts"

// the checkpoint: one atomic, fenced write
export type { Checkpoint, CheckpointResult, DeploymentPatch, Fence, JobPatch } from "./internal/storeCheckpoint.ts"

// the operators' writes: stop requests, takeovers, requested operations
export type {
  OperationRequestResult,
  OperationRequestWrite,
  RequestQuery,
  StopResult,
  TakeOver,
  TakeOverResult
} from "./internal/storeOperations.ts"

/**
 * The outcome of `create`: a new deployment, or the one that already had the same key.
 *
 * @since 0.1.0
 * @category models
 */
export type CreateResult =
  | { readonly _tag: "Created" }
  | { readonly _tag: "Existing"; readonly snapshot: Snapshot }

/**
 * What `create` needs beyond the snapshot.
 *
 * @since 0.2.0
 * @category models
 */
export interface CreateOptions {
  /**
   * How long the creator's lease holds. A store with its own clock sets the lease expiry to its own now plus this,
   * and ignores the snapshot's `leaseExpiresAt`.
   */
  readonly leaseTtlMillis: number
}

/**
 * A filter and a page for `list`. Deployments are listed newest first.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListQuery {
  readonly statuses?: ReadonlyArray<DeploymentStatus>
  readonly application?: string
  readonly action?: string
  /** Only deployments with this key. */
  readonly key?: string
  /** Only deployments created before this time (epoch milliseconds, exclusive). */
  readonly createdBefore?: number
  /** Only deployments created at or after this time (epoch milliseconds, inclusive). */
  readonly createdAfter?: number
  readonly limit: number
  /** The `next` cursor of the previous page. */
  readonly cursor?: string
}

/**
 * One page of `list`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListPage {
  readonly items: ReadonlyArray<DeploymentRow>
  /** Cursor of the next page; absent on the last page. */
  readonly next?: string
  /** Rows of the page the store could not read (they are reported, the rest of the page is not lost). */
  readonly unreadable?: ReadonlyArray<UnreadableRow>
}

/**
 * An action a process can run, as `claim` filters by it: only deployments of these exact definitions are claimed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Runnable {
  readonly application: string
  readonly action: string
  readonly fingerprint: string
}

/**
 * A request to take over deployments whose lease expired (or that have no lease), that are not parked. Each claimed
 * deployment's `resumes` goes up by one, and its `leaseEpoch` by one.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClaimRequest {
  readonly owner: string
  readonly now: number
  readonly leaseTtlMillis: number
  readonly limit: number
  readonly runnable: ReadonlyArray<Runnable>
}

/**
 * A request for `findMismatched`.
 *
 * @since 0.1.0
 * @category models
 */
export interface MismatchRequest {
  readonly now: number
  readonly runnable: ReadonlyArray<Runnable>
  readonly limit: number
}

/**
 * A lease renewal for the deployments an owner still runs. Deployments it holds but no longer runs (a run stopped
 * during a database outage) are left out, so that their leases expire and another process resumes them.
 *
 * @since 0.1.0
 * @category models
 */
export interface HeartbeatRequest {
  readonly owner: string
  readonly now: number
  readonly leaseTtlMillis: number
  readonly deploymentIds: ReadonlyArray<string>
}

/**
 * One lease renewed by a heartbeat.
 *
 * @since 0.1.0
 * @category models
 */
export interface HeldLease {
  readonly deploymentId: string
  readonly epoch: number
  readonly stopRequested: boolean
}

/**
 * A query for `counts`: how many deployments there are in each status, of an application and an action when given,
 * each count stopping at `limit` (so that counting costs at most `limit` rows per status).
 *
 * @since 0.3.0
 * @category models
 */
export interface CountQuery {
  readonly application?: string
  readonly action?: string
  readonly limit: number
}

/**
 * How many deployments are in each status (each at most the query's `limit`).
 *
 * @since 0.3.0
 * @category models
 */
export type StatusCounts = { readonly [S in DeploymentStatus]: number }

/**
 * The persistence operations effect-actions needs. See the module documentation for the guarantees.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeploymentStoreShape {
  /**
   * Creates a deployment with its job records, unless one with the same key, or the same id, exists: then returns
   * that one and writes nothing.
   */
  readonly create: (snapshot: Snapshot, options: CreateOptions) => Effect.Effect<CreateResult, PersistenceError>
  /** Applies one atomic, fenced write. */
  readonly checkpoint: (checkpoint: Checkpoint) => Effect.Effect<CheckpointResult, PersistenceError | LeaseLost>
  /** Appends entries to the error log, fenced. */
  readonly appendErrors: (
    fence: Fence,
    errors: ReadonlyArray<NewErrorRow>
  ) => Effect.Effect<void, PersistenceError | LeaseLost>
  /** Inserts or replaces one job data entry, fenced. */
  readonly setJobData: (
    fence: Fence,
    job: string,
    key: string,
    value: Json
  ) => Effect.Effect<void, PersistenceError | LeaseLost>
  /** Reads one job data entry. */
  readonly getJobData: (
    deploymentId: string,
    job: string,
    key: string
  ) => Effect.Effect<Option.Option<Json>, PersistenceError>
  /** Reads a deployment and its job records. */
  readonly get: (deploymentId: string) => Effect.Effect<Option.Option<Snapshot>, PersistenceError>
  /** Reads a deployment's status, without its values (for waiting on a deployment another process runs). */
  readonly status: (deploymentId: string) => Effect.Effect<Option.Option<StatusRow>, PersistenceError>
  /** Lists deployments, newest first. */
  readonly list: (query: ListQuery) => Effect.Effect<ListPage, PersistenceError>
  /** Reads the error log of a deployment (of one job when `job` is given), in order. */
  readonly errors: (
    deploymentId: string,
    job?: string
  ) => Effect.Effect<ReadonlyArray<ErrorRow>, PersistenceError>
  /**
   * Marks a running deployment as asked to stop, and appends `history` when given (in the same write); a parked one
   * is refused (`Parked`).
   */
  readonly requestStop: (
    deploymentId: string,
    at: number,
    history?: NewHistoryRow
  ) => Effect.Effect<StopResult, PersistenceError>
  /** Takes a deployment nobody holds over for an operator's operation (see `TakeOver`). */
  readonly takeOver: (request: TakeOver) => Effect.Effect<TakeOverResult, PersistenceError>
  /**
   * Records a request for an operation that needs the action's code, with its history entry, when the deployment is
   * in one of `statuses`, is not parked, and has no request pending; otherwise writes nothing.
   */
  readonly requestOperation: (write: OperationRequestWrite) => Effect.Effect<OperationRequestResult, PersistenceError>
  /**
   * The deployments with a pending request whose `(application, action, fingerprint)` is runnable, oldest request
   * first; a pending `restart` needs only its `(application, action)` to be runnable, with any fingerprint (a
   * restart starts the action as registered now, not the deployment's version of it). A read: carrying a request
   * out is a `takeOver` (or `recordOperation`) naming it.
   */
  readonly findRequests: (query: RequestQuery) => Effect.Effect<ReadonlyArray<DeploymentRow>, PersistenceError>
  /**
   * Appends a history entry; with `requestId`, only while that request is pending, and it clears it (a request
   * carried out without a takeover, or refused). Returns whether it wrote.
   */
  readonly recordOperation: (
    deploymentId: string,
    history: NewHistoryRow,
    requestId?: string
  ) => Effect.Effect<boolean, PersistenceError>
  /** Reads a deployment's history, in order. */
  readonly history: (deploymentId: string) => Effect.Effect<ReadonlyArray<HistoryRow>, PersistenceError>
  /** Counts the deployments in each status, each count stopping at `limit`. */
  readonly counts: (query: CountQuery) => Effect.Effect<StatusCounts, PersistenceError>
  /** Reads every job data entry of a deployment, by job then key. */
  readonly jobData: (deploymentId: string) => Effect.Effect<ReadonlyArray<JobDataRow>, PersistenceError>
  /** Takes over deployments whose lease expired (oldest expiry first), bumping their epoch. */
  readonly claim: (request: ClaimRequest) => Effect.Effect<ReadonlyArray<Snapshot>, PersistenceError>
  /** Renews the owner's leases of the listed deployments; returns those it still holds. */
  readonly heartbeat: (request: HeartbeatRequest) => Effect.Effect<ReadonlyArray<HeldLease>, PersistenceError>
  /** Gives up a lease without changing the deployment, so another process can claim it at once. */
  readonly release: (fence: Fence, at: number) => Effect.Effect<void, PersistenceError>
  /**
   * Deletes at most `limit` terminal deployments (and all their rows) last updated before `before`; returns how
   * many. A running, rolling back or paused deployment is never deleted, nor a finished one with a pending request
   * (a `retryRollback` or `restart` waiting for a process that has the action). The runtime calls it again while it
   * returns `limit`, so that no single write is unbounded.
   */
  readonly prune: (before: number, limit: number) => Effect.Effect<number, PersistenceError>
  /**
   * Deletes a deployment whose creator gave up on it (its `start` failed after the create may have committed),
   * while the creator still holds its first lease (owner and epoch match) and its first job has not finished.
   * Returns whether it deleted one; `false` when there is none, or another process took it over.
   */
  readonly discardCreated: (fence: Fence) => Effect.Effect<boolean, PersistenceError>
  /**
   * Active deployments whose lease expired, of a runnable `(application, action)` but with another fingerprint:
   * deployments that this process must not resume, and reports.
   */
  readonly findMismatched: (request: MismatchRequest) => Effect.Effect<ReadonlyArray<DeploymentRow>, PersistenceError>
  /**
   * Appends an entry to a deployment's error log unless it already has one with the same tag and message; not
   * fenced (for reports by processes that do not own the deployment). Returns whether it appended.
   */
  readonly appendErrorOnce: (deploymentId: string, error: NewErrorRow) => Effect.Effect<boolean, PersistenceError>
  /**
   * Optional: runs `effect` in one transaction of the store's database, so that what `effect` writes through the
   * same database client commits with the checkpoint written inside it, or not at all (transactional jobs). A
   * store without it runs transactional jobs like the others.
   */
  readonly transaction?: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | PersistenceError, R>
  /**
   * Optional: the ids of deployments whose stop is requested from now on, by any process, so that their owner
   * reacts at once; without it, owners see stop requests at their next checkpoint or heartbeat.
   */
  readonly stopRequests?: Stream.Stream<string, PersistenceError>
}

/**
 * The persistence service. Provide `layerMemory`, `SqlDeploymentStore.layer`, or your own implementation that
 * passes `DeploymentStoreSuite`.
 *
 * @since 0.1.0
 * @category services
 */
export class DeploymentStore extends Context.Service<DeploymentStore, DeploymentStoreShape>()(
  "effect-actions/DeploymentStore"
) {}

/**
 * Whether a status is one a lease is held for (`running` or `rolling_back`).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isActive: (status: DeploymentStatus) => boolean = Deployment.isActive

/**
 * Encodes a `list` position as an opaque cursor; `decodeCursor` reads it back.
 *
 * @since 0.1.0
 * @category cursors
 */
export const encodeCursor: (row: Pick<DeploymentRow, "createdAt" | "id">) => string = Cursor.encodeCursor

/**
 * Reads a cursor made by `encodeCursor`; `None` when it is not one.
 *
 * @since 0.1.0
 * @category cursors
 */
export const decodeCursor: (cursor: string) => Option.Option<{ readonly createdAt: number; readonly id: string }> =
  Cursor.decodeCursor

/**
 * The error a store returns for a `list` cursor it did not make.
 *
 * @since 0.1.0
 * @category cursors
 */
export const invalidCursor: (cursor: string) => PersistenceError = Cursor.invalidCursor

/**
 * Builds an in-memory store: plain JavaScript maps holding the encoded values as they are (no JSON round trip).
 *
 * **When to use**
 *
 * Tests, examples, and single-process programs whose deployments need not survive the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<DeploymentStoreShape> = makeMemoryStore

/**
 * The in-memory store as a layer. Each build of the layer has its own, empty, store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<DeploymentStore> = Layer.effect(DeploymentStore, makeMemory)
