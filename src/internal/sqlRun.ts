/**
 * Running one statement of the SQL deployment store as a store operation (`Run`, `makeRun`: a bound on its answer,
 * a span, the decoding of its rows), and mapping what fails at that boundary to `PersistenceError`: a `SqlError` (by
 * its reason, refined by SQLSTATE), a failed migration run, parameters that do not encode, rows that do not decode.
 *
 * @internal
 */
import { Duration, Effect, Predicate } from "effect"
import type { Migrator, SqlConnection, SqlError as SqlErrors } from "effect/sql"
import { PersistenceError, type PersistenceErrorReason } from "../ActionError.ts"

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

// ---------------------------------------------------------------------------
// statements
// ---------------------------------------------------------------------------

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
