/**
 * Releasing the runtime within a bound: deployments run in a scope of their own, which the layer's release
 * closes and waits for at most `shutdownTimeout`. Once it is closed, the runtime takes no deployment on.
 *
 * @internal
 */
import { Duration, Effect, Exit, Fiber, Option, Scope } from "effect"

/**
 * Runs `effect` only while the runtime's scope of runs (`scope`) is open. Each way a deployment comes to run here (a
 * start, an operator's take-over, a recovery pass) goes through it before it writes anything: once the runtime is
 * released, nothing could run what they would write (a deployment created, a lease taken), so the caller is
 * interrupted instead, as Effect's own services interrupt their callers once shut down, and nothing is written.
 */
export const whileOpen = (scope: Scope.Scope) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => scope.state._tag === "Closed" ? Effect.interrupt : effect)

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
