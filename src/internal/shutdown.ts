/**
 * Releasing the runtime within a bound: deployments run in a scope of their own, which the layer's release
 * closes and waits for at most `shutdownTimeout`.
 *
 * @internal
 */
import { Duration, Effect, Exit, Fiber, Option, Scope } from "effect"

/**
 * Closes `scope` (interrupting the fibers in it, running its finalizers) and waits for that at most `timeout`.
 * Past it, the closing goes on in the background and the caller goes on: what still runs is left for a later
 * resume, as after a crash.
 */
export const closeWithin = (scope: Scope.Closeable, timeout: Duration.Duration): Effect.Effect<void> =>
  Effect.gen(function*() {
    const closing = yield* Effect.forkDetach(Scope.close(scope, Exit.void))
    const closed = yield* Effect.option(Effect.timeout(Fiber.await(closing), timeout))
    if (Option.isNone(closed)) {
      yield* Effect.logWarning(
        `local runs did not stop within ${Duration.format(timeout)}: released anyway; their deployments resume later`
      )
    }
  })
