/**
 * The web dashboard of deployments: a page (plain browser ES modules, no build step, nothing fetched from
 * elsewhere) that reads and operates deployments through the operator HTTP API (`OperatorHttp`), mountable in your
 * `HttpRouter` beside it.
 *
 * **When to use**
 *
 * To give operators a view of what ran forward, what was undone, in which order, and what is still left undone, and
 * buttons for the operations, in a process that serves the operator API:
 *
 * ```ts
 * const Routes = Layer.mergeAll(
 *   OperatorHttp.layer({ prefix: "/ops/api" }),
 *   Dashboard.layer({ prefix: "/ops", api: "/ops/api" })
 * ).pipe(Layer.provide(YourAuth)) // HttpRouter.middleware: the page is an operator surface too
 * ```
 *
 * **Details**
 *
 * The page is served at `${prefix}` (and `${prefix}/`) and its files at `${prefix}/assets/...`. The files ship in
 * the package (`dashboard/`), found from this module's own location, and are read once when the layer is built.
 * `api` is the path (or absolute URL) at which the browser reaches the operator API; the page reads its endpoints
 * `list`, `counts`, `get`, `errors`, `data`, `events` and calls the operations and `bulk`.
 *
 * **Gotchas**
 *
 * The page can stop, retry, roll back and restart any deployment, through the API: serve both behind the same
 * authentication (`docs/http.md`), or on 127.0.0.1 only, as `effect-actions serve` does.
 *
 * @since 0.3.0
 */
import { Effect, FileSystem, Layer, Path } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { InvalidOption } from "./ActionError.ts"

/**
 * Options of the dashboard.
 *
 * @since 0.3.0
 * @category models
 */
export interface Options {
  /** Where the page is, such as `/dashboard`; at the router's root when left out. */
  readonly prefix?: `/${string}` | undefined
  /**
   * Where the browser reaches the operator API: a path such as `/api`, or an absolute `http(s)` URL, without a query
   * or a fragment (the page appends the endpoints' paths, such as `/deployments`, to it).
   */
  readonly api: string
}

/**
 * The folder of the page's files, beside `src/` in the package.
 *
 * @since 0.3.0
 * @category constants
 */
export const assetsUrl: URL = new URL("../dashboard/", import.meta.url)

const contentTypes: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml"
}

const pathPattern = /^(\/[A-Za-z0-9._~-]+)+$/
/** A path, or an http(s) URL with no query and no fragment: the page appends its endpoints' paths to it. */
const apiPattern = /^(\/[A-Za-z0-9._~-]+)+$|^https?:\/\/[^\s"<>?#]+$/

/** The page's files, read once: name → bytes. */
const readAssets = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* path.fromFileUrl(assetsUrl)
  const names = (yield* fs.readDirectory(dir)).filter((name) => name.split(".").pop()! in contentTypes)
  const files = new Map<string, Uint8Array>()
  for (const name of names) files.set(name, yield* fs.readFile(path.join(dir, name)))
  return files
}).pipe(
  Effect.mapError((cause) =>
    new Error(`effect-actions: the dashboard's files are missing from ${assetsUrl.href} (a broken install?)`, { cause })
  ),
  Effect.orDie
)

const escapeAttribute = (value: string) =>
  value.replaceAll("&", "&amp;").replaceAll("\"", "&quot;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")

const headers = { "cache-control": "no-cache", "x-content-type-options": "nosniff" }

/**
 * The dashboard mounted in the current `HttpRouter`: the page at `${prefix}` and its files under
 * `${prefix}/assets/`. Provide an `HttpRouter.middleware(...).layer` to it to put your authentication in front of
 * its routes. A prefix or an API location that is not a plain path (or URL), or an API location with a query
 * string or a fragment, fails the layer with `InvalidOption`.
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<never, InvalidOption, HttpRouter.HttpRouter | FileSystem.FileSystem | Path.Path> =>
  HttpRouter.use(Effect.fnUntraced(function*(router) {
    const prefix = options.prefix === undefined || options.prefix === "/" ? "" : options.prefix
    if (prefix !== "" && !pathPattern.test(prefix)) {
      return yield* new InvalidOption({ option: "prefix", value: prefix, expected: "a path such as /dashboard" })
    }
    if (!apiPattern.test(options.api)) {
      return yield* new InvalidOption({
        option: "api",
        value: options.api,
        expected: "a path such as /api or an http(s) URL, with no query string or fragment"
      })
    }
    const files = yield* readAssets
    const decoder = new TextDecoder()
    const index = decoder.decode(files.get("index.html") ?? new Uint8Array())
      .replace("__EFFECT_ACTIONS_API__", escapeAttribute(options.api.replace(/\/$/, "")))
      // Absolute paths, so that the page works at `${prefix}` and `${prefix}/` alike (the router treats them as one).
      .replaceAll("\"./assets/", `"${prefix}/assets/`)
    yield* router.add("GET", `${prefix}/`, HttpServerResponse.text(index, { contentType: contentTypes.html!, headers }))
    for (const [name, bytes] of files) {
      if (name === "index.html") continue
      const contentType = contentTypes[name.split(".").pop()!]!
      const response = HttpServerResponse.uint8Array(bytes, { contentType, headers })
      yield* router.add("GET", `${prefix}/assets/${name}`, response)
    }
  }))
