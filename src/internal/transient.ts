/**
 * Retrying the store's transient failures (a lost connection, a timeout, a serialization conflict): the store
 * operations the runtime repeats are safe to repeat, so a transient `PersistenceError` is retried a few times before
 * it reaches the caller.
 *
 * @internal
 */
import { Effect, Schedule } from "effect"
import { PersistenceError } from "../ActionError.ts"

/** Whether a failure is a transient `PersistenceError`, one that a repeat of the same operation may not meet. */
export const isTransient = (error: unknown): boolean => error instanceof PersistenceError && error.isTransient

/**
 * Retries an operation that failed with a transient `PersistenceError`: four more attempts, with gaps of 25, 50,
 * 100 and 200 ms. The retry is set up only once an attempt failed: the path without failures stays cheap.
 */
export const retryTransient = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.catchIf(effect, isTransient, () => retryAfterTransient(effect))

/** The retries of `retryTransient`, for an operation whose first attempt just failed with a transient failure. */
export const retryAfterTransient = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.andThen(
    Effect.sleep("25 millis"),
    Effect.retry(effect, { schedule: Schedule.exponential("50 millis"), times: 3, while: isTransient })
  )
