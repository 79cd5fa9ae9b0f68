/**
 * What the parts of `DeploymentStoreSuite` share: snapshots, fences, error entries, row comparisons, and the
 * ways to create a deployment whose lease is expired or live whatever clock the store judges leases on.
 *
 * @internal
 */
import { assert, type Vitest } from "@effect/vitest"
import { type Duration, Effect, Option } from "effect"
import type { Operation, OperationOutcome } from "../../Deployment.ts"
import {
  DeploymentStore,
  type FailureRow,
  type Fence,
  type JobRunRow,
  type Json,
  type NewErrorRow,
  type NewHistoryRow,
  type RequestRow,
  type Snapshot
} from "../../DeploymentStore.ts"

/** A base time for the suite's timestamps (epoch milliseconds, 2023-11-14). */
export const T0 = 1_700_000_000_000
/** The lease duration of the suite's deployments. */
export const TTL = 30_000
/** The `now` of the suite's claims and mismatch reads: every lease created with `createdExpired` has expired. */
export const CLAIM_AT = T0 + 10 * TTL
/**
 * The lease duration of `createdLive`: long enough that its lease is still live at `CLAIM_AT` on the runtime's
 * clock, and for the length of the suite on a store's own clock.
 */
export const LIVE_TTL = 3_600_000
export const createOptions = { leaseTtlMillis: TTL }

/** Options of a snapshot made by `makeSnapshot`. */
export interface SnapshotOptions {
  readonly application?: string
  readonly action?: string
  readonly key?: string
  readonly jobs?: number
  readonly owner?: string
  readonly at?: number
  readonly input?: Json
  readonly fingerprint?: string
}

/** A freshly started deployment (job 0 running with `input`, the others pending), as `Actions` creates one. */
export const makeSnapshot = (options: SnapshotOptions = {}): Snapshot => {
  const at = options.at ?? T0
  const count = options.jobs ?? 3
  const jobs: Array<JobRunRow> = []
  for (let index = 0; index < count; index++) {
    jobs.push({
      index,
      name: `job-${index}`,
      status: index === 0 ? "running" : "pending",
      input: index === 0 ? (options.input === undefined ? { n: 0 } : options.input) : undefined,
      output: undefined,
      attempts: index === 0 ? 1 : 0,
      startedAt: index === 0 ? at : undefined,
      finishedAt: undefined
    })
  }
  return {
    deployment: {
      id: crypto.randomUUID(),
      application: options.application ?? `app-${crypto.randomUUID()}`,
      action: options.action ?? "provision",
      key: options.key,
      fingerprint: options.fingerprint ?? JSON.stringify(jobs.map((job) => job.name)),
      status: "running",
      currentJob: 0,
      state: { count: 0 },
      output: undefined,
      failure: undefined,
      owner: options.owner ?? "owner-a",
      leaseEpoch: 1,
      leaseExpiresAt: at + TTL,
      stopRequested: false,
      resumes: 0,
      parked: undefined,
      restartOf: undefined,
      request: undefined,
      createdAt: at,
      updatedAt: at
    },
    jobs
  }
}

export const fenceOf = (snapshot: Snapshot, override: Partial<Fence> = {}): Fence => ({
  deploymentId: snapshot.deployment.id,
  owner: snapshot.deployment.owner ?? "",
  epoch: snapshot.deployment.leaseEpoch,
  ...override
})

export const errorOf = (job: string, message: string, at = T0): NewErrorRow => ({
  job,
  phase: "execute",
  tag: "Boom",
  message,
  detail: { message },
  at
})

/** The failure a deployment of the suite is paused (or rolled back) on: its first job's. */
export const failureRow: FailureRow = { job: "job-0", jobIndex: 0, phase: "execute", tag: "Boom", message: "failed" }

/** A history entry of an operation, by `operator-1` unless `fields` say otherwise. */
export const entryOf = (
  operation: Operation,
  outcome: OperationOutcome,
  fields: Partial<Omit<NewHistoryRow, "operation" | "outcome">> = {}
): NewHistoryRow => ({
  operation,
  outcome,
  by: "operator-1",
  at: T0 + 50,
  reason: undefined,
  job: undefined,
  message: undefined,
  detail: undefined,
  ...fields
})

/** A requested operation with a fresh id, asked by `cli-1` at `at`. */
export const requestOf = (operation: Operation, at = T0 + 40): RequestRow => ({
  id: crypto.randomUUID(),
  operation,
  by: "cli-1",
  at,
  reason: "fixed upstream",
  input: { n: null, list: [1, "2"] }
})

export const runnableOf = (snapshot: Snapshot) => ({
  application: snapshot.deployment.application,
  action: snapshot.deployment.action,
  fingerprint: snapshot.deployment.fingerprint
})

/** Sorted keys, so that rows compare equal whatever order a backend builds them in. */
const normalize = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(normalize)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map((
        [k, v]
      ) => [k, normalize(v)])
    )
  }
  return value
}

export const assertSameRow = (actual: unknown, expected: unknown) =>
  assert.deepStrictEqual(normalize(actual), normalize(expected))

/**
 * What a store under test declares about the optional parts of the contract, its clock, and the suite's timeout.
 */
export interface SuiteOptions {
  /** The store implements `transaction` (checked: the declaration must match the store). */
  readonly transactions?: boolean
  /** The store implements `stopRequests` (checked likewise). */
  readonly stopNotifications?: boolean
  /**
   * The store sets and judges lease expiry on a clock of its own (a database server's), and ignores the `now` and
   * `at` it is given for leases (see "Clocks" in `DeploymentStore`): the suite then checks lease expiries
   * relative to each other instead of exactly.
   */
  readonly ownClock?: boolean
  readonly timeout?: Duration.Input
}

/** The test methods a suite part registers its tests with. */
export type SuiteIt = Vitest.MethodsNonLive<DeploymentStore>

/** The helpers every part of the suite uses, for one store's options. */
export const helpersFor = (options: SuiteOptions) => {
  const ownClock = options.ownClock === true
  const get = (id: string) =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      return Option.getOrThrow(yield* store.get(id))
    })
  const createWith = (snapshot: Snapshot, leaseTtlMillis: number) =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      const result = yield* store.create(snapshot, { leaseTtlMillis })
      assert.strictEqual(result._tag, "Created")
      return snapshot
    })
  /** Creates a deployment (its lease lasts `TTL`). */
  const created = (snapshot: Snapshot) => createWith(snapshot, TTL)
  /** Creates a deployment whose lease has expired by the next statement, on any clock. */
  const createdExpired = (snapshot: Snapshot) =>
    createWith({ ...snapshot, deployment: { ...snapshot.deployment, leaseExpiresAt: snapshot.deployment.createdAt } }, 0)
  /** Creates a deployment whose lease is live at `CLAIM_AT`, and on a store's own clock for `LIVE_TTL`. */
  const createdLive = (snapshot: Snapshot) =>
    createWith({ ...snapshot, deployment: { ...snapshot.deployment, leaseExpiresAt: T0 + LIVE_TTL } }, LIVE_TTL)
  /**
   * Asserts that a read is the snapshot written. On a store with its own clock, the lease expiry is the store's:
   * it is only checked to be present exactly when the written one is.
   */
  const assertSameStored = (actual: Snapshot, expected: Snapshot) => {
    if (!ownClock) return assertSameRow(actual, expected)
    assert.strictEqual(
      actual.deployment.leaseExpiresAt === undefined,
      expected.deployment.leaseExpiresAt === undefined,
      "lease expiry present"
    )
    assertSameRow(
      { ...actual, deployment: { ...actual.deployment, leaseExpiresAt: undefined } },
      { ...expected, deployment: { ...expected.deployment, leaseExpiresAt: undefined } }
    )
  }
  /**
   * Creates a deployment and pauses it on the failure of its first job (error log: `failed`), the lease given up,
   * as the runtime pauses one.
   */
  const paused = (snapshot: Snapshot = makeSnapshot(), at = T0 + 5) =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      yield* created(snapshot)
      yield* store.checkpoint({
        fence: fenceOf(snapshot),
        at,
        deployment: { status: "paused", failure: failureRow, releaseLease: true },
        jobs: [{ index: 0, status: "failed", finishedAt: at }],
        errors: [errorOf("job-0", "failed")]
      })
      return snapshot
    })
  return { ownClock, get, created, createdExpired, createdLive, assertSameStored, paused }
}

/** The helpers of `helpersFor`. */
export type Helpers = ReturnType<typeof helpersFor>
