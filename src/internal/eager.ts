/**
 * Combinators that apply their function at once when the effect is already an `Exit`, and fall back to the `Effect`
 * combinator otherwise. A schema without effectful transformations returns an `Exit` (see `codec.ts`), so the
 * runner's per-job schema work costs no fiber step: `Effect.map` of an `Exit` would still add two.
 *
 * They mean exactly what `Effect.map`, `Effect.mapError` and `Effect.flatMap` mean; only the number of fiber steps
 * differs.
 *
 * @internal
 */
import { Effect, Exit } from "effect"

/** The effect as the `Exit` it is, when it is one (`Exit.isExit` alone narrows it to `Exit<unknown, unknown>`). */
const asExit = <A, E, R>(self: Effect.Effect<A, E, R>): Exit.Exit<A, E> | undefined =>
  Exit.isExit(self) ? self as unknown as Exit.Exit<A, E> : undefined

/** `Effect.map`, applied at once to an `Exit`; `f` must not throw. */
export const mapEager = <A, E, R, B>(self: Effect.Effect<A, E, R>, f: (value: A) => B): Effect.Effect<B, E, R> => {
  const exit = asExit(self)
  return exit === undefined ? Effect.map(self, f) : Exit.map(exit, f)
}

/** `Effect.mapError`, applied at once to an `Exit`; `f` must not throw. */
export const mapErrorEager = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  f: (error: E) => E2
): Effect.Effect<A, E2, R> => {
  const exit = asExit(self)
  return exit === undefined ? Effect.mapError(self, f) : Exit.mapError(exit, f)
}

/** `Effect.flatMap`, applied at once to a successful `Exit`; `f` must not throw. */
export const flatMapEager = <A, E, R, B, E2, R2>(
  self: Effect.Effect<A, E, R>,
  f: (value: A) => Effect.Effect<B, E2, R2>
): Effect.Effect<B, E | E2, R | R2> => {
  const exit = asExit(self)
  if (exit === undefined) return Effect.flatMap(self, f)
  return Exit.isSuccess(exit) ? f(exit.value) : Exit.failCause(exit.cause)
}
