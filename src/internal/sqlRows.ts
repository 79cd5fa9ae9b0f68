/**
 * Decoding the rows PostgreSQL returns to the SQL deployment store into the contract's encoded rows.
 *
 * JSON columns are selected as text (`col::text`) and parsed here, so that SQL `NULL` (absent) and the JSON value
 * `null` stay apart; the job records are one JSON array per deployment (the `jobs` column), in which an absent field
 * is no value and a `null` one is the JSON value `null` (or, for a time, no time). Timestamps are selected as whole
 * epoch milliseconds (rounded down, so that a time written by hand with microseconds reads too); a row that still
 * does not decode is a thrown `Error` here, which `Run` (`sqlRun.ts`) turns into a `PersistenceError` and
 * `decodeListPage` into an unreadable row.
 *
 * @internal
 */
import { Schema } from "effect"
import type { SqlConnection } from "effect/sql"
import { DeploymentStatus, JobPhase, Operation, OperationOutcome } from "../Deployment.ts"
import type {
  AttemptRow,
  DeploymentRow,
  ErrorRow,
  FailureRow,
  HeldLease,
  HistoryRow,
  JobDataRow,
  JobRunRow,
  Json,
  ListPage,
  OperationRequestResult,
  ParkedRow,
  RequestRow,
  Snapshot,
  StatusCounts,
  StatusRow,
  StopResult,
  TakeOverResult,
  UnreadableRow
} from "../DeploymentStore.ts"
import { encodeListCursor } from "./sqlListCursor.ts"

type Row = SqlConnection.Row

const isDeploymentStatus = Schema.is(DeploymentStatus)
const isJobPhase = Schema.is(JobPhase)
const isOperation = Schema.is(Operation)
const isOperationOutcome = Schema.is(OperationOutcome)

const unexpected = (column: string, value: unknown): never => {
  throw new Error(`column ${column}: unexpected ${value === null ? "null" : typeof value}`)
}

const text = (row: Row, column: string): string => {
  const value = row[column]
  return typeof value === "string" ? value : unexpected(column, value)
}

const optionalText = (row: Row, column: string): string | undefined => {
  const value = row[column]
  if (value === null || value === undefined) return undefined
  return typeof value === "string" ? value : unexpected(column, value)
}

const integer = (row: Row, column: string): number => {
  const value = row[column]
  const number = typeof value === "bigint" ? Number(value) : value
  return typeof number === "number" && Number.isSafeInteger(number) ? number : unexpectedNumber(column, value)
}

const unexpectedNumber = (column: string, value: unknown): never => {
  if (typeof value === "number") throw new Error(`column ${column}: ${value} is not an integer (epoch milliseconds)`)
  return unexpected(column, value)
}

const optionalInteger = (row: Row, column: string): number | undefined => {
  const value = row[column]
  return value === null || value === undefined ? undefined : integer(row, column)
}

const boolean = (row: Row, column: string): boolean => {
  const value = row[column]
  return typeof value === "boolean" ? value : unexpected(column, value)
}

/** A JSON column selected as text: SQL `NULL` is absent, anything else is parsed. */
const optionalJson = (row: Row, column: string): Json | undefined => {
  const value = optionalText(row, column)
  return value === undefined ? undefined : JSON.parse(value) as Json
}

const literal = <A extends string>(is: (u: unknown) => u is A, column: string, value: unknown): A =>
  is(value) ? value : unexpected(column, value)

/** Reads a deployment row selected with the store's deployment columns. */
export const decodeDeployment = (row: Row): DeploymentRow => ({
  ...decodeDeploymentFields(row),
  resumes: integer(row, "resumes"),
  parked: optionalJson(row, "parked") as ParkedRow | undefined,
  restartOf: optionalText(row, "restart_of"),
  request: optionalJson(row, "request") as RequestRow | undefined
})

const decodeDeploymentFields = (row: Row) => ({
  id: text(row, "id"),
  application: text(row, "application"),
  action: text(row, "action"),
  key: optionalText(row, "key"),
  fingerprint: text(row, "fingerprint"),
  status: literal(isDeploymentStatus, "status", row.status),
  currentJob: integer(row, "current_job"),
  state: optionalJson(row, "state"),
  output: optionalJson(row, "output"),
  failure: optionalJson(row, "failure") as FailureRow | undefined,
  owner: optionalText(row, "owner"),
  leaseEpoch: integer(row, "lease_epoch"),
  leaseExpiresAt: optionalInteger(row, "lease_expires_at"),
  stopRequested: boolean(row, "stop_requested"),
  createdAt: integer(row, "created_at"),
  updatedAt: integer(row, "updated_at")
})

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * One job record of the `jobs` column, as stored. Its shape is not checked here: a record that is not what the
 * runtime relies on (edited by hand) must not fail the read of the deployment, nor the claim of the deployments
 * claimed with it. The runtime checks it before it runs the deployment, and parks one that is wrong
 * (`jobRecords.ts`); `Actions.get` decodes it with `Deployment.JobRun`, and reports one that does not decode. A time
 * stored as `null` (a `finishedAt` a retry cleared) is no time; an absent input or output is none, a `null` one is
 * the JSON value `null`.
 */
const decodeJob = (job: unknown): JobRunRow => {
  const record: Readonly<Record<string, unknown>> = isRecord(job) ? job : {}
  const time = (value: unknown) => value === null ? undefined : value as number | undefined
  const rollbackStartedAt = time(record.rollbackStartedAt)
  const rollbackFinishedAt = time(record.rollbackFinishedAt)
  const earlierAttempts = record.earlierAttempts
  return {
    index: record.index as number,
    name: record.name as string,
    status: record.status as JobRunRow["status"],
    input: "input" in record ? record.input as Json : undefined,
    output: "output" in record ? record.output as Json : undefined,
    attempts: record.attempts as number,
    startedAt: time(record.startedAt),
    finishedAt: time(record.finishedAt),
    ...(rollbackStartedAt === undefined ? {} : { rollbackStartedAt }),
    ...(rollbackFinishedAt === undefined ? {} : { rollbackFinishedAt }),
    ...(earlierAttempts === null || earlierAttempts === undefined
      ? {}
      : { earlierAttempts: earlierAttempts as ReadonlyArray<AttemptRow> })
  }
}

/** Reads the `jobs` column: the deployment's job records, stored as one JSON array in job order. */
const decodeJobs = (row: Row): ReadonlyArray<JobRunRow> => {
  const parsed: unknown = JSON.parse(text(row, "jobs"))
  // not an array (edited by hand): no records, which the runtime's check of the records reports
  return Array.isArray(parsed) ? parsed.map(decodeJob) : []
}

/** Reads a row selected with the store's snapshot columns (deployment columns and aggregated jobs). */
export const decodeSnapshot = (row: Row): Snapshot => ({ deployment: decodeDeployment(row), jobs: decodeJobs(row) })

/** Reads an error log row. */
export const decodeError = (row: Row): ErrorRow => ({
  sequence: integer(row, "sequence"),
  job: optionalText(row, "job"),
  phase: literal(isJobPhase, "phase", row.phase),
  tag: text(row, "tag"),
  message: text(row, "message"),
  detail: optionalJson(row, "detail"),
  at: integer(row, "at")
})

/** Reads a history row. */
export const decodeHistory = (row: Row): HistoryRow => ({
  sequence: integer(row, "sequence"),
  operation: literal(isOperation, "operation", row.operation),
  outcome: literal(isOperationOutcome, "outcome", row.outcome),
  by: text(row, "by"),
  at: integer(row, "at"),
  reason: optionalText(row, "reason"),
  job: optionalText(row, "job"),
  message: optionalText(row, "message"),
  detail: optionalJson(row, "detail")
})

/**
 * Reads the outcome of a takeover (`taken`, then the snapshot's columns); `undefined` when the deployment still
 * looked as expected although the update did not apply (it changed while the update waited for its row lock, and
 * the statement's own read still saw it as before: ask again).
 */
export const decodeTakeOverResult = (
  rows: ReadonlyArray<Row>,
  expected: (deployment: DeploymentRow) => boolean
): TakeOverResult | undefined => {
  const row = rows[0]
  if (row === undefined) return { _tag: "NotFound" }
  if (boolean(row, "taken")) return { _tag: "TakenOver", snapshot: decodeSnapshot(row) }
  const deployment = decodeDeployment(row)
  return expected(deployment) ? undefined : { _tag: "Changed", deployment }
}

/**
 * Reads the outcome of a recorded request (`requested`, `status`, `parked`, `pending`); `undefined` when the
 * deployment looked open to the request although the update did not apply (it changed concurrently: ask again).
 */
export const decodeOperationRequestResult = (
  rows: ReadonlyArray<Row>,
  statuses: ReadonlyArray<DeploymentStatus>
): OperationRequestResult | undefined => {
  const row = rows[0]
  if (row === undefined) return { _tag: "NotFound" }
  if (boolean(row, "requested")) return { _tag: "Requested" }
  const parked = optionalJson(row, "parked")
  if (parked !== undefined) return { _tag: "Parked", parked: parked as ParkedRow }
  const status = literal(isDeploymentStatus, "status", row.status)
  const pending = optionalJson(row, "pending")
  if (pending !== undefined) return { _tag: "Refused", status, pending: pending as RequestRow }
  return statuses.includes(status) ? undefined : { _tag: "Refused", status }
}

/** Reads a JSON value selected as text (the `value` column). */
export const decodeJsonValue = (row: Row): Json => JSON.parse(text(row, "value")) as Json

/** Reads a job data entry (`job`, `key`, and `value` as text). */
export const decodeJobDataRow = (row: Row): JobDataRow => ({
  job: text(row, "job"),
  key: text(row, "key"),
  value: decodeJsonValue(row)
})

/** Reads the per-status counts (`status`, `count` rows) over the zero counts of every status. */
export const decodeCounts = (rows: ReadonlyArray<Row>, zero: StatusCounts): StatusCounts => {
  const counts: { -readonly [S in keyof StatusCounts]: number } = { ...zero }
  for (const row of rows) counts[literal(isDeploymentStatus, "status", row.status)] = integer(row, "count")
  return counts
}

/** Reads a lease renewed by a heartbeat (`id`, `lease_epoch`, `stop_requested`). */
export const decodeHeldLease = (row: Row): HeldLease => ({
  deploymentId: text(row, "id"),
  epoch: integer(row, "lease_epoch"),
  stopRequested: boolean(row, "stop_requested")
})

/**
 * Reads the outcome of a stop request (`stopped`, `owner`, `status`, `parked`); `undefined` when the deployment
 * still looked running and not parked although the update did not apply (it changed concurrently: ask again).
 */
export const decodeStopResult = (rows: ReadonlyArray<Row>): StopResult | undefined => {
  const row = rows[0]
  if (row === undefined) return { _tag: "NotFound" }
  if (boolean(row, "stopped")) return { _tag: "Requested", owner: optionalText(row, "owner") }
  const parked = optionalJson(row, "parked")
  if (parked !== undefined) return { _tag: "Parked", parked: parked as ParkedRow }
  const status = literal(isDeploymentStatus, "status", row.status)
  return status === "running" ? undefined : { _tag: "NotRunning", status }
}

/** Reads a status row (`id`, `application`, `action`, `status`, `parked`, `updated_at`). */
export const decodeStatus = (row: Row): StatusRow => ({
  id: text(row, "id"),
  application: text(row, "application"),
  action: text(row, "action"),
  status: literal(isDeploymentStatus, "status", row.status),
  parked: optionalJson(row, "parked") as ParkedRow | undefined,
  updatedAt: integer(row, "updated_at")
})

// ---------------------------------------------------------------------------
// list pages
// ---------------------------------------------------------------------------

const issueOf = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/**
 * Reads a `list` page: `limit + 1` rows at most, each with its `created_at` (whole epoch milliseconds as a float,
 * infinite for an infinite timestamp) and `created_at_micros` (the microseconds past them). A row that does not
 * decode is reported in `unreadable` with its id, and the rest of the page is returned; the next cursor is the
 * last row's, readable or not.
 */
export const decodeListPage = (rows: ReadonlyArray<Row>, limit: number): ListPage => {
  const items: Array<DeploymentRow> = []
  const unreadable: Array<UnreadableRow> = []
  const page = rows.slice(0, limit)
  for (const row of page) {
    try {
      items.push(decodeDeployment(row))
    } catch (cause) {
      unreadable.push({ id: text(row, "id"), issue: issueOf(cause) })
    }
  }
  const last = page[page.length - 1]
  const next = rows.length > limit && last !== undefined
    ? encodeListCursor({
      createdAt: floatColumn(last, "created_at"),
      micros: optionalInteger(last, "created_at_micros") ?? 0,
      id: text(last, "id")
    })
    : undefined
  return {
    items,
    ...(next === undefined ? {} : { next }),
    ...(unreadable.length === 0 ? {} : { unreadable })
  }
}

const floatColumn = (row: Row, column: string): number => {
  const value = row[column]
  return typeof value === "number" && !Number.isNaN(value) ? value : unexpected(column, value)
}

/** Reads a count (`count`). */
export const decodeCount = (rows: ReadonlyArray<Row>): number => rows[0] === undefined ? 0 : integer(rows[0], "count")
