/**
 * `Dashboard.layer` on a real server on 127.0.0.1, without a browser: the page under a prefix with the API's location
 * written into it, with or without the prefix's trailing slash, its files with their content types, and nothing else.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Dashboard } from "effect-actions/http"
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpRouter, HttpServer } from "effect/http"
import { createServer } from "node:http"
import { readdirSync } from "node:fs"

const Served = HttpRouter.serve(
  Layer.mergeAll(
    Dashboard.layer({ prefix: "/ops", api: "/ops/api" }),
    Dashboard.layer({ prefix: "/remote", api: "https://ops.example.test/api?a=1&b=2" })
  ),
  { disableLogger: true, disableListenLog: true }
).pipe(
  Layer.provideMerge(HttpServer.layerTestClient),
  Layer.provide(FetchHttpClient.layer),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 }))
)

const get = (path: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(HttpClientRequest.get(path)).pipe(
      Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" })
    )
    return { status: response.status, headers: response.headers, text: yield* response.text }
  }).pipe(Effect.scoped, Effect.orDie)

layer(Served, { excludeTestServices: true })("Dashboard.layer", (it) => {
  it.effect("serves the page at the prefix, with or without its slash, with the API's location and absolute asset paths", () =>
    Effect.gen(function*() {
      const page = yield* get("/ops/")
      assert.strictEqual(page.status, 200)
      assert.match(page.headers["content-type"] ?? "", /^text\/html/)
      assert.include(page.text, '<meta name="effect-actions-api" content="/ops/api">')
      assert.include(page.text, 'src="/ops/assets/app.js"', "absolute paths: the page works with or without the slash")
      const bare = yield* get("/ops")
      assert.deepStrictEqual([bare.status, bare.text], [200, page.text])
    }))

  it.effect("writes an absolute API location into the page, escaped as an attribute", () =>
    Effect.gen(function*() {
      const page = yield* get("/remote/")
      assert.include(page.text, '<meta name="effect-actions-api" content="https://ops.example.test/api?a=1&amp;b=2">')
    }))

  it.effect("serves every file of dashboard/ with its content type, and nothing else", () =>
    Effect.gen(function*() {
      const files = readdirSync(new URL("../dashboard/", import.meta.url)).filter((name) => /\.(js|css|svg)$/.test(name))
      assert.include(files, "app.js")
      const types: Record<string, RegExp> = { js: /^text\/javascript/, css: /^text\/css/, svg: /^image\/svg\+xml/ }
      for (const name of files) {
        const file = yield* get(`/ops/assets/${name}`)
        assert.strictEqual(file.status, 200, name)
        assert.match(file.headers["content-type"] ?? "", types[name.split(".").pop()!]!, name)
      }
      assert.strictEqual((yield* get("/ops/assets/tsconfig.json")).status, 404)
      assert.strictEqual((yield* get("/ops/assets/..%2Fpackage.json")).status, 404)
    }))
})
