/**
 * An Effect HTTP service with effect-actions: its users start a deployment and read its status under `/apps`, and
 * its operators get the operator API under `/ops`, behind a bearer token (`OPERATOR_TOKEN`).
 *
 * Run it with `OPERATOR_TOKEN=secret node examples/http.ts` (memory store, 127.0.0.1:8080), then:
 *
 *   curl -X POST http://127.0.0.1:8080/apps/web                       # {"deploymentId":"..."}
 *   curl http://127.0.0.1:8080/apps/status/<id>                        # {"status":"succeeded"}
 *   curl -H 'authorization: Bearer secret' http://127.0.0.1:8080/ops/deployments
 *   curl -N -H 'authorization: Bearer secret' http://127.0.0.1:8080/ops/events
 *   curl http://127.0.0.1:8080/ops/deployments                         # 401: no token
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Effect, Layer, Redacted, Schema } from "effect"
import { Action, Actions, Job } from "effect-actions"
import { OperatorHttp } from "effect-actions/http"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"

const App = Schema.Struct({ app: Schema.String })
const Deploy = Action.make("deploy-app", [
  Job.make("create-vm", {
    input: App,
    output: Schema.Struct({ app: Schema.String, vmId: Schema.String }),
    execute: ({ app }) => Effect.succeed({ app, vmId: `vm-${app}` }),
    rollback: () => Effect.log("delete the vm")
  }),
  Job.make("register-dns", {
    input: Schema.Struct({ app: Schema.String, vmId: Schema.String }),
    output: Schema.Struct({ url: Schema.String }),
    execute: ({ app }) => Effect.succeed({ url: `https://${app}.example.test` })
  })
])

// The service's own routes: start a deployment, read its status.
const AppRoutes = Layer.mergeAll(
  HttpRouter.add("POST", "/apps/:app", Effect.gen(function*() {
    const { app } = yield* HttpRouter.schemaPathParams(App)
    const actions = yield* Actions.Actions
    const deploymentId = yield* actions.start(Deploy, { app }, { key: app })
    return HttpServerResponse.jsonUnsafe({ deploymentId }, { status: 202 })
  }).pipe(Effect.orDie)),
  HttpRouter.add("GET", "/apps/status/:id", Effect.gen(function*() {
    const { id } = yield* HttpRouter.schemaPathParams(Schema.Struct({ id: Schema.String }))
    const deployment = yield* (yield* Actions.Actions).get(id)
    return HttpServerResponse.jsonUnsafe({ status: deployment.status })
  }).pipe(
    Effect.catchTag("DeploymentNotFound", () => Effect.succeed(HttpServerResponse.jsonUnsafe({ error: "not found" }, { status: 404 }))),
    Effect.orDie
  ))
)

// The authentication hook: an HttpRouter middleware in front of every route of the operator API.
const OperatorAuth = HttpRouter.middleware(Effect.gen(function*() {
  const token = Buffer.from(`Bearer ${Redacted.value(yield* Config.Redacted("OPERATOR_TOKEN"))}`)
  return (httpEffect) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const given = Buffer.from(request.headers.authorization ?? "")
      if (given.length !== token.length || !timingSafeEqual(given, token)) {
        return HttpServerResponse.jsonUnsafe({ error: "unauthorized" }, { status: 401 })
      }
      return yield* httpEffect
    })
})).layer

const OperatorRoutes = OperatorHttp.layer({ prefix: "/ops" }).pipe(Layer.provide(OperatorAuth))

// The runtime, with the action registered before the server accepts requests.
const ActionsLive = Layer.effectDiscard(Effect.flatMap(Actions.Actions, (actions) => actions.register(Deploy))).pipe(
  Layer.provideMerge(Actions.layerMemory())
)

HttpRouter.serve(Layer.mergeAll(AppRoutes, OperatorRoutes)).pipe(
  Layer.provide(ActionsLive),
  Layer.provide(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 8080 })),
  Layer.launch,
  NodeRuntime.runMain
)
