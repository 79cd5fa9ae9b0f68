/**
 * Running a job's hook lists and rollback lists.
 *
 * @internal
 */
import { Cause, Effect, Exit } from "effect"
import type { Hook, Rollback, RollbackArgs } from "../Job.ts"

/** Runs hooks in order, each with the previous one's value. */
export const runHooks = <A, E, R>(hooks: ReadonlyArray<Hook<A, E, R>>, value: A): Effect.Effect<A, E, R> => {
  let effect: Effect.Effect<A, E, R> = Effect.succeed(value)
  for (const hook of hooks) effect = Effect.flatMap(effect, hook)
  return effect
}

/**
 * Runs rollbacks in order. Each one runs even when an earlier one failed; the failures (errors and defects) are
 * combined into one cause.
 */
export const runRollbacks = <I, O, R>(
  rollbacks: ReadonlyArray<Rollback<I, O, R>>,
  args: RollbackArgs<I, O>
): Effect.Effect<void, unknown, R> =>
  Effect.gen(function*() {
    let failed: Cause.Cause<unknown> | undefined
    for (const rollback of rollbacks) {
      const exit = yield* Effect.exit(Effect.suspend(() => rollback(args)))
      if (Exit.isFailure(exit)) failed = failed === undefined ? exit.cause : Cause.combine(failed, exit.cause)
    }
    if (failed !== undefined) return yield* Effect.failCause(failed)
  })
