/**
 * The demo's server: the dashboard at `/` and the operator API at `/api` on 127.0.0.1, over the memory store, with
 * the demo's actions registered and the generator running.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { type Duration, Effect, Layer } from "effect"
import { Actions } from "effect-actions"
import { Dashboard, OperatorHttp } from "effect-actions/http"
import { HttpRouter, HttpServer } from "effect/http"
import { createServer } from "node:http"
import { generate, registerDemo } from "./actions.ts"

/** The demo on `port` (0 for any free one); `onListen` receives the dashboard's URL. */
export const demoServer = (options: {
  readonly port: number
  readonly initial: number
  readonly every: Duration.Input
  readonly onListen: (url: string) => Effect.Effect<void>
}) =>
  HttpRouter.serve(
    Layer.mergeAll(OperatorHttp.layer({ prefix: "/api", events: { pollInterval: "300 millis" } }), Dashboard.layer({ api: "/api" })),
    { disableLogger: true, disableListenLog: true }
  ).pipe(
    Layer.merge(Layer.effectDiscard(Effect.gen(function*() {
      const address = (yield* HttpServer.HttpServer).address
      yield* options.onListen(`http://127.0.0.1:${address._tag === "UnixPathAddress" ? 0 : address.port}/`)
    }))),
    Layer.merge(Layer.effectDiscard(Effect.forkScoped(generate(options)))), // stops with the server
    Layer.provideMerge(Layer.effectDiscard(registerDemo)),
    Layer.provide(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: options.port })),
    Layer.provideMerge(Actions.layerMemory({ recovery: { enabled: false } }))
  )
