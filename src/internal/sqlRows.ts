/**
 * The boundary of the SQL deployment store: running one statement, mapping `SqlError` to `PersistenceError`, and
 * decoding the rows PostgreSQL returns into the contract's encoded rows.
 *
 * JSON columns are selected as text (`col::text`) and parsed here, so that SQL `NULL` (absent) and the JSON value
 * `null` stay apart; job records are aggregated into one JSON text per deployment, each nullable JSON value wrapped
 * in a one-element array (`[value]` present, `null` absent). Timestamps are selected as whole epoch milliseconds
 * (rounded down, so that a time written by hand with microseconds reads too); a row that still does not decode is a
 * thrown `Error` here, which `run` turns into a `PersistenceError` and `decodeListPage` into an unreadable row.
 *
 * @internal
 */
import { Duration, Effect, Option, Predicate, Schema } from "effect"
import type { Migrator, SqlConnection, SqlError as SqlErrors } from "effect/sql"
import { PersistenceError, type PersistenceErrorReason } from "../ActionError.ts"
import { DeploymentStatus, JobPhase, JobStatus, Operation, OperationOutcome } from "../Deployment.ts"
import {
  type AttemptRow,
  type CreateResult,
  decodeCursor,
  type DeploymentRow,
  encodeCursor,
  type ErrorRow,
  type FailureRow,
  type HeldLease,
  type HistoryRow,
  type JobDataRow,
  type JobRunRow,
  type Json,
  type ListPage,
  type OperationRequestResult,
  type ParkedRow,
  type RequestRow,
  type Snapshot,
  type StatusCounts,
  type StatusRow,
  type StopResult,
  type TakeOverResult,
  type UnreadableRow
} from "../DeploymentStore.ts"
import { jsonIssue, textIssue } from "./storable.ts"

type Row = SqlConnection.Row

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

const reasonOfTag: Record<SqlErrors.SqlErrorReason["_tag"], PersistenceErrorReason> = {
  ConnectionError: "connection",
  AuthenticationError: "connection",
  UniqueViolation: "conflict",
  DeadlockError: "conflict",
  SerializationError: "conflict",
  LockTimeoutError: "timeout",
  StatementTimeoutError: "timeout",
  ConstraintError: "invalid",
  SqlSyntaxError: "invalid",
  AuthorizationError: "invalid",
  UnknownError: "unknown"
}

const sqlStateOf = (cause: unknown): string | undefined =>
  Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? cause.code : undefined

/**
 * Refines the reasons the driver leaves unclassified, by SQLSTATE: data the server cannot store (class 22, such as
 * a `\u0000` in a JSON string, or 54, a value too large) is `invalid`; a server that refuses connections for now
 * (53300 too many connections, 57P01-57P03 shutting down or starting) is `connection`.
 */
const refineUnknown = (code: string | undefined): PersistenceErrorReason => {
  if (code === undefined) return "unknown"
  if (code.startsWith("22") || code.startsWith("54")) return "invalid"
  if (code === "53300" || code === "57P01" || code === "57P02" || code === "57P03") return "connection"
  return "unknown"
}

const messageOf = (cause: unknown): string | undefined =>
  Predicate.hasProperty(cause, "message") && typeof cause.message === "string" && cause.message !== ""
    ? cause.message
    : undefined

/** Maps a `SqlError` to the `PersistenceError` of a store operation, keeping the `SqlError` as its cause. */
export const fromSqlError = (operation: string, error: SqlErrors.SqlError): PersistenceError => {
  const reason = error.reason
  const code = sqlStateOf(reason.cause)
  const mapped = reason._tag === "UnknownError" ? refineUnknown(code) : reasonOfTag[reason._tag]
  const parts = [reason._tag, reason.message, messageOf(reason.cause)].filter(
    (part, index, all): part is string => part !== undefined && all.indexOf(part) === index
  )
  const detail = parts.join(": ") + (code === undefined ? "" : ` (SQLSTATE ${code})`)
  return new PersistenceError({ reason: mapped, operation, detail, cause: error })
}

/** Maps a failed migration run to a `PersistenceError` (of the SQL error behind it, when there is one). */
export const fromMigrationError = (error: Migrator.MigrationError | SqlErrors.SqlError): PersistenceError => {
  if (error._tag === "SqlError") return fromSqlError("migrations", error)
  const cause: unknown = error.cause
  if (Predicate.hasProperty(cause, "_tag") && cause._tag === "SqlError") {
    const mapped = fromSqlError("migrations", cause as SqlErrors.SqlError)
    return new PersistenceError({ ...mapped, detail: `${error.message}: ${mapped.detail}`, cause: error })
  }
  return new PersistenceError({ reason: "unknown", operation: "migrations", detail: error.message, cause: error })
}

/** A value the store was asked to write cannot be encoded (not JSON, or an id that is not a UUID). */
export const invalidInput = (operation: string, cause: unknown): PersistenceError =>
  new PersistenceError({
    reason: "invalid",
    operation,
    detail: `cannot encode the values to write: ${messageOf(cause) ?? String(cause)}`,
    cause
  })

/** A row the database returned does not have the expected shape. */
export const unexpectedRow = (operation: string, cause: unknown): PersistenceError =>
  new PersistenceError({
    reason: "unknown",
    operation,
    detail: `unexpected row from the database: ${messageOf(cause) ?? String(cause)}`,
    cause
  })

/** A statement got no answer within the store's `statementTimeout` (it was cancelled: see `makeRun`). */
export const statementTimedOut = (operation: string, timeoutMillis: number): PersistenceError =>
  new PersistenceError({
    reason: "timeout",
    operation,
    detail: `no answer from the database within ${
      Duration.format(Duration.millis(timeoutMillis))
    } (statementTimeout); the statement was cancelled`
  })

/**
 * Runs one statement as a store operation: `build` makes the statement (a throw while encoding its parameters is
 * an `invalid` error), `SqlError`s become `PersistenceError`s, and `decode` reads the rows (a throw is an
 * `unknown` error, never a defect).
 */
export type Run = <A>(
  operation: string,
  build: () => Effect.Effect<ReadonlyArray<Row>, SqlErrors.SqlError>,
  decode: (rows: ReadonlyArray<Row>) => A
) => Effect.Effect<A, PersistenceError>

/**
 * The `Run` of a store whose statements get an answer within `timeoutMillis`, or fail with reason `timeout`.
 *
 * The bound is the client's: when it passes, the statement's fiber is interrupted, and `@effect/sql-pg` then sends
 * the server a `CancelRequest` and waits for the connection to be idle again (or drops the connection when the
 * server does not answer within 5 s), so that the statement stops on the server too and its locks are released.
 */
export const makeRun = (timeoutMillis: number): Run => {
  const duration = Duration.millis(timeoutMillis)
  return (operation, build, decode) =>
    Effect.suspend(() => {
      let statement: Effect.Effect<ReadonlyArray<Row>, SqlErrors.SqlError>
      try {
        statement = build()
      } catch (cause) {
        return Effect.fail(invalidInput(operation, cause))
      }
      return Effect.flatMap(
        Effect.mapError(statement, (error) => fromSqlError(operation, error)).pipe(
          Effect.timeoutOrElse({
            duration,
            orElse: () => Effect.fail(statementTimedOut(operation, timeoutMillis))
          }),
          Effect.withSpan(`effect-actions.store.${operation}`, {}, { captureStackTrace: false })
        ),
        (rows) => {
          try {
            return Effect.succeed(decode(rows))
          } catch (cause) {
            return Effect.fail(unexpectedRow(operation, cause))
          }
        }
      )
    })
}

/**
 * Text that would not be stored exactly: PostgreSQL refuses `\u0000` in `text`, and the driver would encode an
 * unpaired surrogate as U+FFFD, silently. The named values are checked before the statement is sent; the first
 * issue is the store's `invalid` refusal.
 */
export const unstorableText = (
  operation: string,
  values: Readonly<Record<string, string | undefined>>
): PersistenceError | undefined => {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue
    const issue = textIssue(value)
    if (issue !== undefined) {
      return new PersistenceError({ reason: "invalid", operation, detail: `${name} cannot be stored: ${issue}` })
    }
  }
  return undefined
}

/**
 * A value to write (a history entry, a request, a takeover) that holds a string or a key no store can hold, as the
 * store's `invalid` refusal; `undefined` when every string can be stored. Checked before the statement is sent.
 */
export const unstorableValue = (operation: string, value: unknown): PersistenceError | undefined => {
  const issue = jsonIssue(value)
  return issue === undefined
    ? undefined
    : new PersistenceError({ reason: "invalid", operation, detail: `a value cannot be stored: ${issue}` })
}

/** Why a lease duration given to the store is not one, or `undefined`. */
export const ttlIssue = (ttl: number): string | undefined =>
  Number.isFinite(ttl) && ttl >= 0 ? undefined : `leaseTtlMillis must be a finite number >= 0, got ${ttl}`

/** The refusal of a lease duration that is not one. */
export const invalidTtl = (operation: string, issue: string): PersistenceError =>
  new PersistenceError({ reason: "invalid", operation, detail: issue })

/** Whether every value is text the store can hold (else no stored row can match it). */
export const allStorable = (...values: ReadonlyArray<string | undefined>): boolean =>
  values.every((value) => value === undefined || textIssue(value) === undefined)

// ---------------------------------------------------------------------------
// parameters
// ---------------------------------------------------------------------------

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether an id can be stored in a `uuid` column (any other id names no stored deployment). */
export const isUuid = (id: string): boolean => uuidPattern.test(id)

/** A JSON value as a `jsonb` parameter: its JSON text, or SQL `NULL` when absent. */
export const jsonParam = (value: Json | FailureRow | undefined): string | null => {
  if (value === undefined) return null
  const text = JSON.stringify(value)
  if (typeof text !== "string") throw new Error(`not a JSON value: ${String(value)}`)
  return text
}

// ---------------------------------------------------------------------------
// rows
// ---------------------------------------------------------------------------

const isDeploymentStatus = Schema.is(DeploymentStatus)
const isJobStatus = Schema.is(JobStatus)
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

const unwrap = (column: string, value: unknown): Json | undefined =>
  value === null ? undefined : Array.isArray(value) && value.length === 1 ? value[0] as Json : unexpected(column, value)

const jsonNumber = (column: string, value: unknown): number =>
  typeof value === "number" && Number.isSafeInteger(value) ? value : unexpectedNumber(column, value)

const optionalJsonNumber = (column: string, value: unknown): number | undefined =>
  value === null ? undefined : jsonNumber(column, value)

/** Reads the `jobs` column: the job records aggregated as a JSON array of arrays, ordered by index. */
const decodeJobs = (row: Row): ReadonlyArray<JobRunRow> => {
  const parsed: unknown = JSON.parse(text(row, "jobs"))
  if (!Array.isArray(parsed)) return unexpected("jobs", parsed)
  return parsed.map((job: unknown): JobRunRow => {
    if (!Array.isArray(job) || job.length !== 11) return unexpected("jobs", job)
    const [
      index,
      name,
      status,
      input,
      output,
      attempts,
      startedAt,
      finishedAt,
      rollbackStartedAt,
      rollbackFinishedAt,
      earlierAttempts
    ] = job as Array<unknown>
    const rollbackStarted = optionalJsonNumber("jobs.rollback_started_at", rollbackStartedAt)
    const rollbackFinished = optionalJsonNumber("jobs.rollback_finished_at", rollbackFinishedAt)
    return {
      index: jsonNumber("jobs.index", index),
      name: typeof name === "string" ? name : unexpected("jobs.name", name),
      status: literal(isJobStatus, "jobs.status", status),
      input: unwrap("jobs.input", input),
      output: unwrap("jobs.output", output),
      attempts: jsonNumber("jobs.attempts", attempts),
      startedAt: optionalJsonNumber("jobs.started_at", startedAt),
      finishedAt: optionalJsonNumber("jobs.finished_at", finishedAt),
      ...(rollbackStarted === undefined ? {} : { rollbackStartedAt: rollbackStarted }),
      ...(rollbackFinished === undefined ? {} : { rollbackFinishedAt: rollbackFinished }),
      // decoded with the record (`Deployment.AttemptRun`): a malformed list is reported there as corrupt data
      ...(earlierAttempts === null ? {} : { earlierAttempts: earlierAttempts as ReadonlyArray<AttemptRow> })
    }
  })
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

/**
 * A `list` position: the creation time of the last row of a page and its id. The time is whole epoch milliseconds
 * plus the microseconds a timestamp written by an operator may have (`micros`, 0 to 999), or an infinite time
 * (which only an operator can write).
 */
export interface ListPosition {
  readonly createdAt: number
  readonly micros: number
  readonly id: string
}

/**
 * Encodes a position as an opaque cursor: `encodeCursor`'s `[createdAt, id]` for whole milliseconds (what the
 * store's own writes hold), `[createdAt, id, micros]` with microseconds, `["infinity" | "-infinity", id]` for an
 * infinite time, so that a page can end on any row.
 */
export const encodeListCursor = (position: ListPosition): string => {
  if (!Number.isFinite(position.createdAt)) {
    return JSON.stringify([position.createdAt > 0 ? "infinity" : "-infinity", position.id])
  }
  return position.micros === 0
    ? encodeCursor(position)
    : JSON.stringify([position.createdAt, position.id, position.micros])
}

/** Reads a cursor made by `encodeListCursor` (or by 0.1 of this store); `None` when it is not one. */
export const decodeListCursor = (cursor: string): Option.Option<ListPosition> => {
  const plain = decodeCursor(cursor)
  if (Option.isSome(plain)) {
    return Number.isSafeInteger(plain.value.createdAt) && isUuid(plain.value.id)
      ? Option.some({ ...plain.value, micros: 0 })
      : Option.none()
  }
  try {
    const value: unknown = JSON.parse(cursor)
    if (!Array.isArray(value) || typeof value[1] !== "string" || !isUuid(value[1])) return Option.none()
    const [createdAt, id, micros] = value as [unknown, string, unknown]
    if (value.length === 2 && (createdAt === "infinity" || createdAt === "-infinity")) {
      return Option.some({ createdAt: createdAt === "infinity" ? Infinity : -Infinity, micros: 0, id })
    }
    if (
      value.length === 3 && typeof createdAt === "number" && Number.isSafeInteger(createdAt) &&
      typeof micros === "number" && Number.isInteger(micros) && micros >= 0 && micros < 1000
    ) {
      return Option.some({ createdAt, micros, id })
    }
  } catch {
    // not a cursor: None below
  }
  return Option.none()
}

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

/**
 * Reads the outcome of the create statement (`created`, then the existing snapshot's columns); `undefined` when the
 * key exists but its deployment was not visible to the statement (committed meanwhile: read it again).
 */
export const decodeCreateResult = (rows: ReadonlyArray<Row>): CreateResult | undefined => {
  const row = rows[0]
  if (row === undefined) return unexpected("created", undefined)
  if (boolean(row, "created")) return { _tag: "Created" }
  return row.id === null ? undefined : { _tag: "Existing", snapshot: decodeSnapshot(row) }
}
