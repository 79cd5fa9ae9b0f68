/**
 * The operator HTTP API (`OperatorApi`) served from the `Actions` service, mountable in your `HttpRouter` under a
 * prefix of your choice, with its generated OpenAPI document.
 *
 * **When to use**
 *
 * In a process that already runs `Actions` (and serves HTTP), to give operators and a dashboard a way to find,
 * inspect, stop, retry, roll back, restart (one at a time or in bulk) and prune deployments, and to follow them live:
 *
 * ```ts
 * const Routes = OperatorHttp.layer({ prefix: "/ops" }).pipe(Layer.provide(YourAuth)) // HttpRouter.middleware
 * HttpRouter.serve(Routes).pipe(Layer.provide(NodeHttpServer.layer(createServer, { port: 8080 })), ...)
 * ```
 *
 * **Details**
 *
 * The handlers call `Actions` and nothing else, so the API behaves exactly as `Actions` does, on whichever store
 * it runs. `start` starts a deployment in the serving process, which must have the action registered. The stop of
 * a running deployment is carried out by the process that runs it, wherever it is. The other operations are carried
 * out by the serving process when it has the action registered (200, outcome `done`); otherwise they are stored as a
 * request on the deployment (202, outcome `requested`), which a process that has the action carries out at its next
 * recovery pass.
 *
 * The event stream (`GET /events`) is made by polling `list` and `get` (every `events.pollInterval`, 1 s by
 * default) until the runtime has a change feed to replace it; it sends a heartbeat every `events.heartbeat` (15 s)
 * and ends after `events.maxDuration` (30 min), after which an `EventSource` reconnects and receives the current
 * state again.
 *
 * **Gotchas**
 *
 * Authentication is not built in, and this API can stop, retry, roll back and restart any deployment and delete
 * history: never expose it unauthenticated. Provide an `HttpRouter.middleware` layer to `layer` to put your own
 * authentication in front of every route it adds (see `docs/http.md`).
 *
 * @since 0.2.0
 */
import { Duration, Effect, type FileSystem, Layer, Option, type Path, Stream } from "effect"
import { type Etag, type HttpPlatform, HttpRouter, HttpServerResponse } from "effect/http"
import { HttpApiBuilder, type HttpApiGroup, HttpApiMiddleware, OpenApi } from "effect/http-api"
import { Actions, type OperationReceipt } from "./Actions.ts"
import { InvalidArgument, InvalidOption, PersistenceError } from "./ActionError.ts"
import { changes, type FeedOptions } from "./internal/changeFeed.ts"
import { describeSchemaError } from "./internal/codec.ts"
import { durationSyntax, parseDurationMillis } from "./internal/durationText.ts"
import {
  Api,
  type DeploymentEvent,
  eventName,
  type OperationDone,
  type OperationRequested,
  RequestValidation,
  type SseEvent
} from "./OperatorApi.ts"

/**
 * Options of the operator API.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Where the API's paths start, such as `/ops`; at the router's root when left out. */
  readonly prefix?: HttpRouter.PathInput | undefined
  /** The path of the OpenAPI document, under the prefix; `/openapi.json` by default, `false` for none. */
  readonly openapiPath?: `/${string}` | false | undefined
  /** The event stream. */
  readonly events?: {
    /** How often the stream reads the deployments; 1 s by default. */
    readonly pollInterval?: Duration.Input | undefined
    /** How often a heartbeat event is sent; 15 s by default. */
    readonly heartbeat?: Duration.Input | undefined
    /** How many deployments (the newest matching the stream's filter) the stream follows; 100 by default, at most 1000. */
    readonly window?: number | undefined
    /** How long one stream stays open before it ends (clients reconnect); 30 min by default. */
    readonly maxDuration?: Duration.Input | undefined
  } | undefined
}

/** The error as it goes on the wire: without its cause (a driver error, whose text is not for clients). */
const withoutCause = <E>(error: E): E =>
  error instanceof PersistenceError
    ? new PersistenceError({ reason: error.reason, operation: error.operation, detail: error.detail }) as E
    : error

const invalidOption = (option: string, value: unknown, expected: string) =>
  new InvalidOption({ option, value: String(value), expected })

const positiveDuration = (option: string, input: Duration.Input | undefined, fallback: Duration.Input) =>
  Effect.suspend(() => {
    const duration = Duration.fromInput(input ?? fallback)
    return Option.isSome(duration) && Duration.isFinite(duration.value) && Duration.toMillis(duration.value) > 0
      ? Effect.succeed(duration.value)
      : Effect.fail(invalidOption(option, input, "a finite duration above zero"))
  })

/** The event stream's options, checked: a typed error for each one out of its range. */
const feedOptions = (options: Options["events"]): Effect.Effect<FeedOptions, InvalidOption> =>
  Effect.gen(function*() {
    const window = options?.window ?? 100
    if (!Number.isInteger(window) || window < 1 || window > 1000) {
      return yield* invalidOption("events.window", window, "an integer from 1 to 1000")
    }
    return {
      pollInterval: yield* positiveDuration("events.pollInterval", options?.pollInterval, "1 second"),
      heartbeat: yield* positiveDuration("events.heartbeat", options?.heartbeat, "15 seconds"),
      window,
      maxDuration: yield* positiveDuration("events.maxDuration", options?.maxDuration, "30 minutes")
    }
  })

const pathPattern = /^(\/[A-Za-z0-9._~-]+)+$/

/** The `reason` of an operation's body, when one was given. */
const reasonOf = (payload: { readonly reason?: string } | null): { readonly reason?: string } =>
  payload?.reason === undefined ? {} : { reason: payload.reason }

/** A receipt as one of the two success responses: `done` (200) or `requested` (202). */
const receiptView = (receipt: OperationReceipt): typeof OperationDone.Type | typeof OperationRequested.Type =>
  receipt.outcome === "done" ? { ...receipt, outcome: "done" } : { ...receipt, outcome: "requested" }

const toSse = (event: DeploymentEvent): SseEvent => {
  switch (event._tag) {
    case "DeploymentChanged":
      return { event: eventName.DeploymentChanged, data: event }
    case "JobChanged":
      return { event: eventName.JobChanged, data: event }
    case "DeploymentRemoved":
      return { event: eventName.DeploymentRemoved, data: event }
    case "Heartbeat":
      return { event: eventName.Heartbeat, data: event }
  }
}

/** The fields that are defined: a query's absent parameters are left out, not passed on as `undefined`. */
const definedOnly = <T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } => {
  const defined: Record<string, unknown> = {}
  for (const key in fields) if (fields[key] !== undefined) defined[key] = fields[key]
  return defined as { [K in keyof T]?: Exclude<T[K], undefined> }
}

/** `prune`: `olderThan` is a duration's text (`durationSyntax`); one that does not parse is an `InvalidArgument`. */
const prune = (actions: Actions["Service"], olderThanText: string) =>
  Option.match(parseDurationMillis(olderThanText), {
    onNone: () =>
      Effect.fail(
        new InvalidArgument({
          operation: "prune",
          argument: "olderThan",
          issue: `expected ${durationSyntax}, got ${JSON.stringify(olderThanText.slice(0, 100))}`
        })
      ),
    onSome: (olderThan) =>
      actions.prune({ olderThan }).pipe(Effect.map((pruned) => ({ pruned })), Effect.mapError(withoutCause))
  })

/**
 * The handlers of the `operator` group, on the `Actions` service (they need the `RequestValidation` middleware:
 * `layerRequestValidation`).
 *
 * @since 0.2.0
 * @category layers
 */
export const layerHandlers = (
  options?: Pick<Options, "events">
): Layer.Layer<HttpApiGroup.Service<"effect-actions", "operator">, InvalidOption, Actions | RequestValidation> =>
  HttpApiBuilder.group(
    Api,
    "operator",
    Effect.fnUntraced(function*(handlers) {
      const actions = yield* Actions
      const feed = yield* feedOptions(options?.events)
      return handlers.handleAll({
        list: ({ query }) =>
          actions.list(definedOnly({
            statuses: query.status,
            application: query.application,
            action: query.action,
            key: query.key,
            createdBefore: query.createdBefore,
            createdAfter: query.createdAfter,
            limit: query.limit,
            cursor: query.cursor
          })).pipe(Effect.mapError(withoutCause)),
        start: ({ payload }) =>
          actions.startByName(
            { application: payload.application, action: payload.action },
            payload.input,
            payload.key === undefined ? {} : { key: payload.key }
          ).pipe(Effect.map((deploymentId) => ({ deploymentId })), Effect.mapError(withoutCause)),
        get: ({ params }) => actions.get(params.id).pipe(Effect.mapError(withoutCause)),
        errors: ({ params, query }) =>
          actions.errors(params.id, query.job === undefined ? {} : { job: query.job }).pipe(
            Effect.map((items) => ({ deploymentId: params.id, items })),
            Effect.mapError(withoutCause)
          ),
        data: ({ params }) =>
          actions.jobData(params.id).pipe(
            Effect.map((items) => ({ deploymentId: params.id, items })),
            Effect.mapError(withoutCause)
          ),
        counts: ({ query }) =>
          actions.counts(definedOnly({ application: query.application, action: query.action })).pipe(
            Effect.mapError(withoutCause)
          ),
        stop: ({ params, payload }) =>
          actions.stop(params.id, reasonOf(payload)).pipe(Effect.map(receiptView), Effect.mapError(withoutCause)),
        retry: ({ params, payload }) =>
          actions.retry(params.id, {
            ...reasonOf(payload),
            ...(payload !== null && "input" in payload ? { input: payload.input } : {})
          }).pipe(Effect.map(receiptView), Effect.mapError(withoutCause)),
        rollback: ({ params, payload }) =>
          actions.rollback(params.id, reasonOf(payload)).pipe(Effect.map(receiptView), Effect.mapError(withoutCause)),
        retryRollback: ({ params, payload }) =>
          actions.retryRollback(params.id, reasonOf(payload)).pipe(
            Effect.map(receiptView),
            Effect.mapError(withoutCause)
          ),
        restart: ({ params, payload }) =>
          actions.restart(params.id, {
            ...reasonOf(payload),
            ...(payload?.key === undefined ? {} : { key: payload.key })
          }).pipe(Effect.map(receiptView), Effect.mapError(withoutCause)),
        bulk: ({ payload }) =>
          actions.bulk({
            operation: payload.operation,
            ...definedOnly({ filter: payload.filter, dryRun: payload.dryRun }),
            ...reasonOf(payload)
          }).pipe(Effect.mapError(withoutCause)),
        prune: ({ payload }) => prune(actions, payload.olderThan),
        events: ({ query }) =>
          Effect.succeed(
            changes(
              actions,
              definedOnly({ statuses: query.status, application: query.application, action: query.action }),
              feed
            ).pipe(Stream.map(toSse))
          )
      })
    })
  )

/**
 * What serving the API needs besides `Actions`: a router and the platform's HTTP services (`NodeHttpServer.layer`
 * provides the platform's).
 *
 * @since 0.2.0
 * @category models
 */
export type Requirements = HttpRouter.HttpRouter | Etag.Generator | FileSystem.FileSystem | HttpPlatform.HttpPlatform | Path.Path

/**
 * The `RequestValidation` middleware: a request whose path, query or body does not decode fails with an
 * `InvalidArgument` (400) naming the endpoint, the parameter and the issue.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRequestValidation: Layer.Layer<RequestValidation> = HttpApiMiddleware.layerSchemaErrorTransform(
  RequestValidation,
  (error, { endpoint }) => {
    if (error.kind === "Body" || error.kind === "ResponseHeaders") return Effect.fail(error)
    const { issue, path } = describeSchemaError(error.cause)
    const slot = error.kind === "Params" ? "path" : error.kind.toLowerCase()
    return Effect.fail(
      new InvalidArgument({
        operation: endpoint.identifier,
        argument: path === "(root)" ? slot : `${slot}.${path}`,
        issue
      })
    )
  }
)

/** Event streams must reach the client as they are written: no caching, no proxy buffering. */
const streamHeaders = HttpRouter.middleware((httpEffect) =>
  Effect.map(httpEffect, (response) =>
    response.body._tag === "Stream"
      ? HttpServerResponse.setHeaders(response, { "cache-control": "no-cache", "x-accel-buffering": "no" })
      : response)
).layer

/**
 * The operator API mounted in the current `HttpRouter`: its routes under `prefix`, and its OpenAPI document at
 * `${prefix}${openapiPath}` (whose `servers` entry is the prefix). Provide an `HttpRouter.middleware(...).layer`
 * to it to put your authentication in front of every route it adds. An option out of its range (a prefix that is not
 * a plain path, a duration that is not above zero, a window outside 1 to 1000) fails the layer with
 * `InvalidOption`, before any route is added.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<never, InvalidOption, Actions | Requirements> =>
  Layer.unwrap(Effect.gen(function*() {
    const prefix = options?.prefix === undefined || options.prefix === "/" ? undefined : options.prefix
    if (prefix !== undefined && !pathPattern.test(prefix)) {
      return yield* invalidOption("prefix", prefix, "a path such as /ops: segments of letters, digits, . _ ~ -")
    }
    const openapiPath = options?.openapiPath === false ? undefined : options?.openapiPath ?? "/openapi.json"
    if (openapiPath !== undefined && !pathPattern.test(openapiPath)) {
      return yield* invalidOption("openapiPath", openapiPath, "a path such as /openapi.json, or false")
    }
    const api = prefix === undefined ? Api : Api.annotate(OpenApi.Servers, [{ url: prefix }])
    const routes = HttpApiBuilder.layer(api, { openapiPath }).pipe(
      Layer.provide(Layer.provide(layerHandlers(options), layerRequestValidation)),
      Layer.provide(streamHeaders)
    )
    if (prefix === undefined) return routes
    return Layer.provide(
      routes,
      Layer.effect(HttpRouter.HttpRouter, Effect.map(HttpRouter.HttpRouter, (router) => router.prefixed(prefix)))
    )
  }))
