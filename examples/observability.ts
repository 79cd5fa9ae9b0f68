/**
 * Exporting effect-actions' traces and metrics with effect's own `effect/observability`, no OpenTelemetry SDK: the
 * OTLP exporters (`OtlpTracer`, `OtlpMetrics`, OTLP/JSON over HTTP) and a Prometheus `/metrics` endpoint
 * (`PrometheusMetrics.layerHttp`) served with `@effect/platform-node`, on the in-memory store.
 *
 * It runs three deployments (two succeed, one fails and rolls back), scrapes its own `/metrics` once and prints the
 * effect-actions lines, then shuts down: the exporters flush on the way out, and it prints the span tree and the
 * metric names that reached the OTLP endpoint. Run it with `node examples/observability.ts`; it exits by itself.
 *
 * Without a collector, the OTLP requests go to a stand-in collector served by the same HTTP server
 * (`POST /v1/traces`, `POST /v1/metrics`), which keeps what it receives. With `OTEL_EXPORTER_OTLP_ENDPOINT` set
 * (an OpenTelemetry collector's OTLP/HTTP base URL, such as `http://127.0.0.1:4318`), they go there instead.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer, Option, Schema } from "effect"
import { Action, Actions, Job } from "effect-actions"
import { FetchHttpClient, HttpClient, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { OtlpMetrics, OtlpSerialization, OtlpTracer, PrometheusMetrics } from "effect/observability"
import { createServer } from "node:http"

// --- the action ---------------------------------------------------------------------------------------------

class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", { region: Schema.String }) {}

const Request = Schema.Struct({ app: Schema.String, region: Schema.String })
const Vm = Schema.Struct({ app: Schema.String, region: Schema.String, vmId: Schema.String })

const Provision = Action.make("provision", [
  Job.make("create-vm", {
    input: Request,
    output: Vm,
    execute: ({ app, region }) => Effect.as(Effect.sleep("20 millis"), { app, region, vmId: `vm-${app}` }),
    rollback: ({ output }) => Effect.log(`delete ${Option.match(output, { onNone: () => "nothing", onSome: (vm) => vm.vmId })}`)
  }),
  Job.make("attach-disk", {
    input: Vm,
    output: Vm,
    error: QuotaExceeded,
    execute: (vm) => vm.region === "full" ? Effect.fail(new QuotaExceeded({ region: vm.region })) : Effect.succeed(vm),
    rollback: () => Effect.log("detach the disk, if attached")
  }),
  Job.make("announce", {
    input: Vm,
    output: Schema.Struct({ url: Schema.String }),
    execute: ({ app }) => Effect.succeed({ url: `https://${app}.example.test` })
  })
])

// --- a stand-in OTLP collector: keeps what the exporters send -----------------------------------------------

const Attribute = Schema.Struct({ key: Schema.String, value: Schema.Record(Schema.String, Schema.Unknown) })
const Span = Schema.Struct({
  traceId: Schema.String,
  spanId: Schema.String,
  parentSpanId: Schema.optional(Schema.String),
  name: Schema.String,
  startTimeUnixNano: Schema.String,
  endTimeUnixNano: Schema.String,
  attributes: Schema.optional(Schema.Array(Attribute))
})
type Span = typeof Span.Type
const TracesRequest = Schema.Struct({
  resourceSpans: Schema.Array(Schema.Struct({ scopeSpans: Schema.Array(Schema.Struct({ spans: Schema.Array(Span) })) }))
})
const MetricsRequest = Schema.Struct({
  resourceMetrics: Schema.Array(Schema.Struct({
    scopeMetrics: Schema.Array(Schema.Struct({
      metrics: Schema.Array(Schema.Struct({ name: Schema.String, unit: Schema.optional(Schema.String) }))
    }))
  }))
})

const received = { spans: new Array<Span>(), metrics: new Map<string, string>() }

const collect = <S extends Schema.Top>(schema: S, keep: (body: S["Type"]) => void) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    keep(yield* Schema.decodeUnknownEffect(schema)(yield* request.json))
    return HttpServerResponse.jsonUnsafe({})
  }).pipe(Effect.orDie)

const Collector = Layer.mergeAll(
  HttpRouter.add("POST", "/v1/traces", collect(TracesRequest, (body) => {
    for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) received.spans.push(...scope.spans)
  })),
  HttpRouter.add("POST", "/v1/metrics", collect(MetricsRequest, (body) => {
    for (const resource of body.resourceMetrics) {
      for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) received.metrics.set(metric.name, metric.unit ?? "")
    }
  }))
)

// --- the layers ---------------------------------------------------------------------------------------------

/** The HTTP server on a free port: Prometheus's `GET /metrics`, and the stand-in collector. */
const ServerLive = HttpRouter.serve(Layer.mergeAll(PrometheusMetrics.layerHttp({ path: "/metrics" }), Collector), {
  disableLogger: true,
  disableListenLog: true
}).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })))

/** The OTLP exporters: the tracer every span of the program goes to, and the metrics exporter. */
const ExportersLive = Layer.unwrap(Effect.gen(function*() {
  const base = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? HttpServer.formatAddress((yield* HttpServer.HttpServer).address)
  const resource = { serviceName: "effect-actions-example" }
  return Layer.mergeAll(
    OtlpTracer.layer({ url: `${base}/v1/traces`, resource, exportInterval: "1 second" }),
    OtlpMetrics.layer({ url: `${base}/v1/metrics`, resource, exportInterval: "1 second" })
  ).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))
}))

/** The runtime, built with the exporters in its context, so that its background work is traced too. */
const MainLive = Actions.layerMemory().pipe(
  Layer.provideMerge(ExportersLive),
  Layer.merge(FetchHttpClient.layer),
  Layer.provideMerge(ServerLive)
)

// --- the program --------------------------------------------------------------------------------------------

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  yield* actions.register(Provision, { application: "shop" })
  for (const [app, region] of [["web", "eu-west"], ["api", "eu-west"], ["db", "full"]] as const) {
    const exit = yield* Effect.exit(actions.execute(Provision, { app, region }))
    console.log(`deployment of ${app}: ${exit._tag === "Success" ? "succeeded" : "failed and rolled back"}`)
  }

  // Scrape /metrics once, as Prometheus would (without tracing the scrape itself).
  const url = `${HttpServer.formatAddress((yield* HttpServer.HttpServer).address)}/metrics`
  const text = yield* Effect.flatMap(HttpClient.get(url), (response) => response.text).pipe(
    Effect.withTracerEnabled(false)
  )
  console.log(`\nGET ${url} (the effect-actions lines, histogram buckets left out):`)
  for (const line of text.split("\n")) {
    if (line.includes("effect_actions_") && !line.includes("_bucket{")) console.log(`  ${line}`)
  }
})

const attributesOf = (span: Span) =>
  (span.attributes ?? [])
    .filter(({ key }) => ["deployment.action", "job.name", "job.attempt"].includes(key))
    .map(({ key, value }) => `${key}=${String(Object.values(value)[0])}`)
    .join(" ")

const printTraces = () => {
  console.log(`\nspans received by the OTLP endpoint: ${received.spans.length}`)
  const ids = new Set(received.spans.map((span) => span.spanId))
  const print = (span: Span, depth: number) => {
    const millis = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6
    console.log(`${"  ".repeat(depth + 1)}${span.name} ${attributesOf(span)} (${millis.toFixed(1)} ms)`)
    for (const child of received.spans.filter((other) => other.parentSpanId === span.spanId)) print(child, depth + 1)
  }
  for (const root of received.spans.filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId))) {
    print(root, 0)
  }
  console.log(`\nmetrics received by the OTLP endpoint:`)
  for (const [name, unit] of [...received.metrics].filter(([name]) => name.startsWith("effect_actions."))) {
    console.log(`  ${name} (unit ${unit})`)
  }
}

Effect.runPromise(program.pipe(Effect.provide(MainLive))).then(
  () => {
    if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined) printTraces()
    else console.log(`\ntraces and metrics exported to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT} (what it did not accept is dropped)`)
  },
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  }
)
