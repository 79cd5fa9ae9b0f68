/**
 * Error handlers for job functions: the seed's `WrapErrorHandler` and `ErrorHandlerIgnoreError`.
 *
 * `wrap(fn, handler)` returns a function that runs `fn`; when `fn` fails, the failure is appended to the
 * deployment's error log, then `handler` decides: it recovers with a value (the job goes on) or fails (the job
 * fails and the deployment rolls back). `ignore(fn)` logs the failure and goes on with the value `fn` received.
 *
 * **Details**
 *
 * The error log gets exactly one entry per failure: `fn`'s failure when it fails; the handler's failure too when
 * the handler fails with another error. When the handler fails, the job fails with the handler's error, and that
 * error is not logged a second time as the job's failure; a handler that re-raises `fn`'s own error adds nothing.
 * Defects (thrown exceptions, `Effect.die`) are not handled: they fail the job.
 *
 * Wrapped functions can be used anywhere a job takes a function: pre-hooks, execute, post-hooks.
 *
 * @since 0.1.0
 */
import { Effect, Function } from "effect"
import { JobContext } from "./JobContext.ts"

/**
 * Wraps a job function with an error handler.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ErrorHandler } from "effect-actions"
 *
 * const lookupQuota = (app: string) => Effect.fail({ _tag: "QuotaUnavailable" as const, message: "timeout" })
 * const withDefaultQuota = ErrorHandler.wrap(lookupQuota, () => Effect.succeed(10))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const wrap: {
  <A, E, B2, E2 = never, R2 = never>(
    handler: (error: E, value: A) => Effect.Effect<B2, E2, R2>
  ): <B, R>(fn: (value: A) => Effect.Effect<B, E, R>) => (value: A) => Effect.Effect<B | B2, E2, R | R2 | JobContext>
  <A, B, E, R, B2, E2 = never, R2 = never>(
    fn: (value: A) => Effect.Effect<B, E, R>,
    handler: (error: E, value: A) => Effect.Effect<B2, E2, R2>
  ): (value: A) => Effect.Effect<B | B2, E2, R | R2 | JobContext>
} = Function.dual(2, <A, B, E, R, B2, E2, R2>(
  fn: (value: A) => Effect.Effect<B, E, R>,
  handler: (error: E, value: A) => Effect.Effect<B2, E2, R2>
) =>
(value: A): Effect.Effect<B | B2, E2, R | R2 | JobContext> =>
  Effect.catch(Effect.suspend(() => fn(value)), (error) =>
    Effect.flatMap(JobContext, (context) =>
      Effect.andThen(
        context.recordError(error),
        Effect.tapError(
          Effect.suspend(() => handler(error, value)),
          (handlerError) => (handlerError as unknown) === error ? Effect.void : context.recordError(handlerError)
        )
      ))))

/**
 * Wraps a job function so that its failure is logged and the job goes on with the value the function received.
 *
 * @since 0.1.0
 * @category combinators
 */
export const ignore = <A, E, R>(
  fn: (value: A) => Effect.Effect<A, E, R>
): (value: A) => Effect.Effect<A, never, R | JobContext> => wrap(fn, (_error, value: A) => Effect.succeed(value))
