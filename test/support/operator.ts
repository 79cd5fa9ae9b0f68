/**
 * Support for the tests of the operator surfaces (HTTP API and CLI): the actions they run, a store whose failures
 * a test switches on, and the operator API served on a real HTTP server on 127.0.0.1 (a free port) with an
 * `HttpClient` that targets it.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, Schema } from "effect"
import { Action, ActionError, Actions, DeploymentStore, Job, JobContext } from "effect-actions"
import { OperatorHttp } from "effect-actions/http"
import { FetchHttpClient, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"
import { Boom, Counter } from "./jobs.ts"

const Name = Schema.Struct({ name: Schema.String })
const Machine = Schema.Struct({ name: Schema.String, machine: Schema.String })

/** `provision`: two jobs that succeed at once (create-machine, then announce). */
export const Provision = Action.make("provision", [
  Job.make("create-machine", {
    input: Name,
    output: Machine,
    execute: ({ name }) => Effect.succeed({ name, machine: `m-${name}` }),
    rollback: () => Effect.void
  }),
  Job.make("announce", {
    input: Machine,
    output: Schema.Struct({ url: Schema.String }),
    execute: ({ name }) => Effect.succeed({ url: `https://${name}.example.test` })
  })
])

/** `hold`: a first job that succeeds, then a job that never ends (until the deployment is stopped). */
export const Hold = Action.make("hold", [
  Job.make("reserve", {
    input: Name,
    output: Name,
    execute: Effect.succeed,
    rollback: () => Effect.void
  }),
  Job.make("wait", { input: Name, output: Name, execute: () => Effect.never })
])

/** `explode`: a job that fails with `Boom`, so the deployment rolls back with an entry in its error log. */
export const Explode = Action.make("explode", [
  Job.make("ignite", {
    input: Name,
    output: Name,
    error: Boom,
    execute: () => Effect.fail(new Boom({ job: "ignite" })),
    rollback: () => Effect.void
  })
])

/** The quota `quota` grants: an `n` below it fails the job. */
export const quotaLimit = 10

/**
 * `quota` (failure policy `pause`): `reserve` passes `n` on, then `check-quota` fails with `Boom` while `n` is below
 * `quotaLimit`, so the deployment pauses there until an operator retries it with a big enough `n` (or rolls it back).
 */
export const Quota = Action.make("quota", [
  Job.make("reserve", { input: Counter, output: Counter, execute: Effect.succeed, rollback: () => Effect.void }),
  Job.make("check-quota", {
    input: Counter,
    output: Counter,
    error: Boom,
    execute: ({ n }) => n < quotaLimit ? Effect.fail(new Boom({ job: "check-quota" })) : Effect.succeed({ n }),
    rollback: () => Effect.void
  })
], { onFailure: "pause" })

/**
 * `teardown`: `release` succeeds, then `explode` fails, and the rollback of `release` fails the first time it runs
 * (it reads its own rollback errors in the error log), so the deployment ends `rollback_failed`; a `retryRollback`
 * then succeeds.
 */
export const Teardown = Action.make("teardown", [
  Job.make("release", {
    input: Counter,
    output: Counter,
    execute: Effect.succeed,
    rollback: () =>
      Effect.gen(function*() {
        const context = yield* JobContext.JobContext
        const earlier = yield* context.errors({ currentJobOnly: true })
        if (!earlier.some((entry) => entry.phase === "rollback")) return yield* new Boom({ job: "release" })
      })
  }),
  Job.make("explode", {
    input: Counter,
    output: Counter,
    error: Boom,
    execute: () => Effect.fail(new Boom({ job: "explode" }))
  })
])

/** Registers the test actions for an application. */
export const registerAll = (application: string) =>
  Effect.gen(function*() {
    const actions = yield* Actions.Actions
    yield* actions.register(Provision, { application })
    yield* actions.register(Hold, { application })
    yield* actions.register(Explode, { application })
    yield* actions.register(Quota, { application })
    yield* actions.register(Teardown, { application })
  })

/** How the faulty store fails, while a test wants it to. */
export type FaultMode = "none" | "connection" | "conflict"

/** A switch for the failures of the store, and a count of its `list` calls. */
export class Faults extends Context.Service<Faults, { mode: FaultMode; listCalls: number }>()("test/Faults") {}

/**
 * The store of `base`, failing every operation with a `PersistenceError` of reason `connection` or `conflict`
 * while `Faults.mode` says so.
 */
export const faultyStore = <E, R>(
  base: Layer.Layer<DeploymentStore.DeploymentStore, E, R>
): Layer.Layer<DeploymentStore.DeploymentStore | Faults, E, R> =>
  Layer.effect(
    DeploymentStore.DeploymentStore,
    Effect.gen(function*() {
      const inner = yield* DeploymentStore.DeploymentStore
      const faults = yield* Faults
      const guard = (operation: string, run: () => Effect.Effect<unknown, unknown>) =>
        Effect.suspend(() => {
          if (operation === "list") faults.listCalls++
          return faults.mode === "none"
            ? run()
            : Effect.fail(
              new ActionError.PersistenceError({
                reason: faults.mode,
                operation,
                detail: `${faults.mode} failure injected by the test`
              })
            )
        })
      return Object.fromEntries(
        Object.entries(inner).map(([name, member]) => [
          name,
          typeof member === "function"
            ? (...args: Array<unknown>) =>
              guard(name, () => (member as (...a: Array<unknown>) => Effect.Effect<unknown, unknown>)(...args))
            : member
        ])
      ) as unknown as DeploymentStore.DeploymentStoreShape
    })
  ).pipe(Layer.provideMerge(Layer.sync(Faults, () => ({ mode: "none" as FaultMode, listCalls: 0 }))), Layer.provide(base))

/** The bearer token the `/secure` mount of the API wants. */
export const operatorToken = "test-operator-token"

/** The documented authentication hook: an `HttpRouter` middleware that wants a bearer token. */
export const BearerAuth = HttpRouter.middleware((httpEffect) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.headers.authorization !== `Bearer ${operatorToken}`) {
      return HttpServerResponse.jsonUnsafe({ error: "unauthorized" }, { status: 401 })
    }
    return yield* httpEffect
  })
).layer

/** Event stream pacing for tests: fast polls and heartbeats. */
export const testEvents = { pollInterval: "50 millis", heartbeat: "200 millis", window: 100 } as const

/**
 * The operator API on a real server on 127.0.0.1 (a free port): at `/ops` without authentication, and at
 * `/secure` behind `BearerAuth`; plus an `HttpClient` whose relative URLs go to that server. It needs `Actions`.
 */
export const serveOperator = () =>
  HttpRouter.serve(
    Layer.mergeAll(
      OperatorHttp.layer({ prefix: "/ops", events: testEvents }),
      OperatorHttp.layer({ prefix: "/secure", events: testEvents }).pipe(Layer.provide(BearerAuth))
    ),
    { disableLogger: true, disableListenLog: true }
  ).pipe(
    Layer.provideMerge(HttpServer.layerTestClient),
    Layer.provide(FetchHttpClient.layer),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 }))
  )
