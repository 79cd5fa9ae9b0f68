/**
 * The CLI's `serve` command, in process: it announces where it listens only once it answers there. A client that
 * reads the announcement and connects at once gets an answer, however slowly the routes are built.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { Actions } from "effect-actions"
import { serveOperatorApi } from "../src/internal/cli/serve.ts"

describe("effect-actions serve", () => {
  it.live("answers the first request sent the moment it announces its address, though the routes are slow to build", () =>
    Effect.gen(function*() {
      const announced = yield* Deferred.make<string>()
      // Building the runtime takes a while (a store connecting, say): the routes wait for it.
      const slowActions = Layer.unwrap(Effect.as(Effect.sleep("400 millis"), Actions.layerMemory({ recovery: { enabled: false } })))
      const server = yield* Effect.forkChild(serveOperatorApi({
        port: 0,
        json: false,
        print: (line) => {
          const url = /^serving the operator API at (\S+)/.exec(line)?.[1]
          return url === undefined ? Effect.void : Effect.asVoid(Deferred.succeed(announced, url))
        },
        actions: slowActions
      }))
      const url = yield* Deferred.await(announced).pipe(Effect.timeout("30 seconds"))
      const status = yield* Effect.promise(() =>
        fetch(`${url}/deployments?application=nobody`, { signal: AbortSignal.timeout(10_000) }).then(
          (response) => response.status,
          (error: unknown) => `no answer: ${String(error)}`
        )
      )
      assert.strictEqual(status, 200)
      yield* Fiber.interrupt(server)
    }), 60_000)
})
