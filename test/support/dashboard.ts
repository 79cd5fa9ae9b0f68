/**
 * Support for the dashboard's browser tests: the page (at `/`) and the operator API (at `/api`) served on a real
 * server on 127.0.0.1 (a free port), the server's origin, the browser as a service, and pages opened at a hash of
 * the dashboard. Each test file provides `Actions` (with its own store) and registers its actions.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer } from "effect"
import { Dashboard, OperatorHttp } from "effect-actions/http"
import { HttpRouter, HttpServer } from "effect/http"
import { createServer } from "node:http"
import type { Browser as PlaywrightBrowser } from "playwright-core"
import { browser, page as newPage } from "./browser.ts"
import { testEvents } from "./operator.ts"

/** The browser of a test file. */
export class Browser extends Context.Service<Browser, PlaywrightBrowser>()("test/Browser") {}

/** Where the test server is: `http://127.0.0.1:<port>`. */
export class Origin extends Context.Service<Origin, string>()("test/Origin") {}

/** The dashboard at `/` and the operator API at `/api` on 127.0.0.1, its `Origin`, and the `Browser`. */
export const DashboardServed = HttpRouter.serve(
  Layer.mergeAll(OperatorHttp.layer({ prefix: "/api", events: testEvents }), Dashboard.layer({ api: "/api" })),
  { disableLogger: true, disableListenLog: true }
).pipe(
  Layer.provideMerge(Layer.effect(Origin, Effect.map(HttpServer.HttpServer, (server) =>
    server.address._tag === "UnixPathAddress" ? "" : `http://127.0.0.1:${server.address.port}`))),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
  Layer.merge(Layer.effect(Browser, browser))
)

/** A promise of the browser, as an Effect. */
export const ui = <A>(run: () => Promise<A>) => Effect.promise(run)

/** A new page (closed with the scope) at the dashboard's `hash`, with short timeouts. */
export const open = (hash: string) =>
  Effect.gen(function*() {
    const page = yield* newPage(yield* Browser)
    page.setDefaultTimeout(10_000)
    const origin = yield* Origin
    yield* ui(() => page.goto(`${origin}/${hash}`))
    return page
  })
