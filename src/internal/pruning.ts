/**
 * Pruning: `prune` deletes the finished deployments last updated before a cutoff, in batches, so that no single
 * write deletes an unbounded number of rows.
 *
 * @internal
 */
import { Clock, Duration, Effect } from "effect"
import type { ActionsShape } from "../Actions.ts"
import type { RunnerEnv } from "./run.ts"
import * as Validate from "./validate.ts"
import { retryTransient } from "./transient.ts"

/** How many deployments one `prune` statement deletes at most. */
const pruneBatch = 1000

/** Builds the runtime's `prune`. It checks its arguments first (`validate.ts`). */
export const makePrune = (env: RunnerEnv): ActionsShape["prune"] =>
  Effect.fn("Actions.prune")(function*(pruneOptions: { readonly olderThan: Duration.Input }) {
    const olderThan = yield* Validate.pruneOptionsArgument(pruneOptions)
    const before = (yield* Clock.currentTimeMillis) - Duration.toMillis(olderThan)
    let pruned = 0
    while (true) {
      const deleted = yield* retryTransient(env.store.prune(before, pruneBatch))
      pruned += deleted
      if (deleted < pruneBatch) return pruned
    }
  })
