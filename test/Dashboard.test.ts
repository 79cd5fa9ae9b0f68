/**
 * `Dashboard.layer` on a real server on 127.0.0.1, without a browser: the page under a prefix with the API's location
 * written into it, with or without the prefix's trailing slash, its files with their content types, and nothing else;
 * the options it refuses; and the page's files read from disk: under the size budget, and referring to nothing on
 * another host (so that the page works offline).
 */
import { NodeHttpServer } from "@effect/platform-node"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Dashboard } from "effect-actions/http"
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpRouter, HttpServer } from "effect/http"
import { createServer } from "node:http"
import { readdirSync, readFileSync } from "node:fs"

const Served = HttpRouter.serve(
  Layer.mergeAll(
    Dashboard.layer({ prefix: "/ops", api: "/ops/api" }),
    Dashboard.layer({ prefix: "/remote", api: "https://ops.example.test/a&b/api" })
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
      assert.include(page.text, '<meta name="effect-actions-api" content="https://ops.example.test/a&amp;b/api">')
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

describe("Dashboard", () => {
  layer(Layer.empty)("options", (it) => {
    it.effect("refuses a prefix or an API location that is not a plain path, and an API location with a query or a fragment", () =>
      Effect.gen(function*() {
        const cases = [
          [{ api: "/api", prefix: "/a b" as "/a" }, "prefix"],
          [{ api: "javascript:alert(1)" }, "api"],
          // The page appends `/deployments`, `/counts`, ... to the location: a query would end up in the middle.
          [{ api: "https://ops.example.test/api?token=1" }, "api"],
          [{ api: "/api?token=1" }, "api"],
          [{ api: "https://ops.example.test/api#top" }, "api"]
        ] as const
        for (const [options, option] of cases) {
          const error = yield* Effect.flip(
            Layer.build(Dashboard.layer(options)).pipe(
              Effect.provide(Layer.mergeAll(HttpRouter.layer, NodeServices.layer))
            )
          )
          assert.deepStrictEqual([error._tag, error.option], ["InvalidOption", option], JSON.stringify(options))
        }
      }))
  })

  describe("its files", () => {
    const folder = new URL("../dashboard/", import.meta.url)
    /** The files the layer serves (it serves these extensions), with their text. */
    const served = readdirSync(folder)
      .filter((name) => /\.(js|css|html|svg)$/.test(name))
      .map((name) => ({ name, bytes: readFileSync(new URL(name, folder)) }))

    it("weigh less than 200,000 bytes together", () => {
      assert.isAbove(served.length, 10)
      const total = served.reduce((sum, file) => sum + file.bytes.byteLength, 0)
      assert.isBelow(total, 200_000, `${served.length} files, ${total} bytes`)
    })

    it("refer to nothing on another host: no URL but the SVG namespace, no remote import or url(), no web font", () => {
      const found: Array<string> = []
      for (const { name, bytes } of served) {
        const text = bytes.toString("utf8")
        for (const match of text.matchAll(/https?:\/\/[^\s"'`)<>]*/g)) {
          if (name.endsWith(".svg") && match[0] === "http://www.w3.org/2000/svg") continue
          found.push(`${name}: ${match[0]}`)
        }
        for (const match of text.matchAll(/@import\b|@font-face\b|url\(\s*["']?\s*(?:(?!data:)[a-z][a-z0-9+.-]*:|\/\/)[^)]*\)/gi)) {
          found.push(`${name}: ${match[0]}`)
        }
      }
      assert.deepStrictEqual(found, [])
    })
  })
})
