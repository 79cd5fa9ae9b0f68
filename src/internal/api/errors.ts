/**
 * The operator API's errors and their status codes: `PersistenceError` by its `reason` (`invalid` 400, `conflict`
 * 409, the others 503), and the middleware that answers a request whose parameters do not decode with an
 * `InvalidArgument` (400), as `OperatorApi` exports them.
 *
 * @internal
 */
import { Schema } from "effect"
import { HttpApiMiddleware, HttpApiSchema } from "effect/http-api"
import { InvalidArgument, PersistenceError, type PersistenceErrorReason } from "../../ActionError.ts"

const persistenceError = (reasons: ReadonlyArray<PersistenceErrorReason>, status: number, description: string) =>
  PersistenceError.pipe(
    Schema.check(
      Schema.makeFilter((error: PersistenceError) =>
        reasons.includes(error.reason) || `a persistence error of reason ${reasons.join(" or ")}`
      )
    ),
    HttpApiSchema.status(status)
  ).annotate({ description })

/**
 * A `PersistenceError` of reason `invalid`: the store refused what was sent (a cursor it did not make, a value
 * it cannot hold). 400.
 *
 * @since 0.2.0
 * @category errors
 */
export const StoreRefused = persistenceError(["invalid"], 400, "The store refused the request's data")

/**
 * A `PersistenceError` of reason `conflict`: a write lost a race; retrying may succeed. 409.
 *
 * @since 0.2.0
 * @category errors
 */
export const StoreConflict = persistenceError(["conflict"], 409, "A write lost a race in the store; retry")

/**
 * A `PersistenceError` of reason `connection`, `timeout` or `unknown`: the store is unavailable. 503.
 *
 * @since 0.2.0
 * @category errors
 */
export const StoreUnavailable = persistenceError(
  ["connection", "timeout", "unknown"],
  503,
  "The store is unavailable"
)

/** The store failures every endpoint that reads or writes the store may answer with. */
export const storeErrors = [StoreRefused, StoreConflict, StoreUnavailable] as const

/**
 * Turns a request that does not decode (parameters, query, body) into an `InvalidArgument` (400) that names the
 * parameter and the issue, instead of an empty 400.
 *
 * @since 0.2.0
 * @category middleware
 */
export class RequestValidation extends HttpApiMiddleware.Service<RequestValidation>()(
  "effect-actions/OperatorApi/RequestValidation",
  { error: InvalidArgument.pipe(HttpApiSchema.status(400)) }
) {}
