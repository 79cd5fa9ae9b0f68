/**
 * The CLI's `serve` command: the dashboard (`Dashboard`) at `/` and the operator HTTP API (`OperatorHttp`) under
 * `/api` on 127.0.0.1, until the process is interrupted. Loaded only by `serve`.
 *
 * @internal
 */
import { createServer } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer, Schema } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import type { Actions } from "../../Actions.ts"
import * as Dashboard from "../../Dashboard.ts"
import * as OperatorHttp from "../../OperatorHttp.ts"
import { printJson } from "./context.ts"

const ServeView = Schema.Struct({
  url: Schema.String,
  openapi: Schema.String,
  events: Schema.String,
  dashboard: Schema.String
})

/** Serves the API until interrupted; announces where, on stdout, once it listens. */
export const serveOperatorApi = <E>(options: {
  readonly port: number
  readonly json: boolean
  readonly print: (line: string) => Effect.Effect<void>
  readonly actions: Layer.Layer<Actions, E>
}) => {
  const announce = Layer.effectDiscard(Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const address = server.address
    const origin = address._tag === "UnixPathAddress" ? "http://127.0.0.1" : `http://127.0.0.1:${address.port}`
    const view = {
      url: `${origin}/api`,
      openapi: `${origin}/api/openapi.json`,
      events: `${origin}/api/events`,
      dashboard: `${origin}/`
    }
    if (options.json) return yield* printJson(ServeView, view)
    yield* options.print(`serving the dashboard at ${view.dashboard}`)
    yield* options.print(`serving the operator API at ${view.url} (OpenAPI document: ${view.openapi})`)
    yield* options.print("it has no authentication: it listens on 127.0.0.1 only; stop it with Ctrl-C")
  }))
  const routes = Layer.mergeAll(OperatorHttp.layer({ prefix: "/api" }), Dashboard.layer({ api: "/api" }))
  // The server listens as soon as it is built, but answers only once the routes are attached: announced before
  // that, a client's first request would be accepted and never answered. So the announcement waits for `serve`.
  const served = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: options.port })),
    Layer.provide(options.actions)
  )
  return announce.pipe(Layer.provide(served), Layer.launch)
}
