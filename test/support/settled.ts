/**
 * Waiting until a deployment rests (paused or finished: no longer `running` or `rolling_back`), for operations that
 * run in the background: on the test clock, or on the real clock with a bound.
 */
import { Effect } from "effect"
import { type Actions, Deployment } from "effect-actions"
import { TestClock } from "effect/testing"

/** Reads the deployment until it rests, moving the test clock 10 ms between reads. */
export const settled = (actions: Actions.ActionsShape, id: string) =>
  Effect.gen(function*() {
    while (true) {
      const deployment = yield* actions.get(id)
      if (!Deployment.isActive(deployment.status)) return deployment
      yield* TestClock.adjust("10 millis")
    }
  })

/** Reads the deployment until it rests, every 20 ms of real time, for at most 500 reads (then dies). */
export const settledLive = (actions: Actions.ActionsShape, id: string) =>
  Effect.gen(function*() {
    for (let polls = 0; polls < 500; polls++) {
      const deployment = yield* actions.get(id)
      if (!Deployment.isActive(deployment.status)) return deployment
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.die(new Error(`deployment ${id} did not settle`))
  })
