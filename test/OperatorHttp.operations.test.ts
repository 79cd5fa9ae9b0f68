/**
 * The operator operations of the HTTP API (stop, retry, rollback, retry-rollback, restart, bulk) on a real server on
 * 127.0.0.1, called with effect's `HttpClient` and the typed client; against the memory store and PostgreSQL.
 *
 * A second server on the same store, whose `Actions` has no action registered (as the CLI's `serve`), answers the
 * operations with 202 and a request; the suite's own runtime, which has the actions, carries them out.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, DateTime, Deferred, Effect, Fiber, Layer, Option, Scope, Stream } from "effect"
import { Actions, DeploymentStore } from "effect-actions"
import { OperatorApi } from "effect-actions/http"
import { makeSnapshot } from "effect-actions/testing"
import { HttpClient } from "effect/http"
import { call, isIsoTimestamp, readUntil, record, typedClient } from "./support/http.ts"
import { faultyStore, Faults, Hold, Provision, Quota, quotaLimit, registerAll, serveOperator, Teardown } from "./support/operator.ts"
import { PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"

/** The owner of the serving process that has no action. */
const withoutActionsOwner = "http-without-actions"

/**
 * The operator API served by a second process on the suite's store, which has no action registered: an
 * `HttpClient` to it, for the scope of the test.
 */
const serverWithoutActions = Effect.gen(function*() {
  const store = yield* DeploymentStore.DeploymentStore
  // A memo map of its own: the suite's would hand back the suite's server and client (its layers are shared).
  const context = yield* Layer.buildWithMemoMap(
    serveOperator().pipe(
      Layer.provide(Actions.layer({ owner: withoutActionsOwner, recovery: { enabled: false } })),
      Layer.provide(Layer.succeed(DeploymentStore.DeploymentStore, store))
    ),
    yield* Layer.makeMemoMap,
    yield* Scope.Scope
  )
  return Context.get(context, HttpClient.HttpClient)
})

const through = (client: HttpClient.HttpClient) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, HttpClient.HttpClient, client)

const history = (deployment: unknown) =>
  (record(deployment).history as Array<Record<string, unknown>>).map((entry) => [entry.operation, entry.outcome])

const operationsSuite = <E>(name: string, store: Layer.Layer<DeploymentStore.DeploymentStore, E>) => {
  const application = `ops-${crypto.randomUUID().slice(0, 8)}`
  const TestLayer = serveOperator().pipe(
    Layer.provideMerge(Layer.effectDiscard(registerAll(application))),
    Layer.provideMerge(Actions.layer({ recovery: { enabled: false } })),
    Layer.provideMerge(faultyStore(store))
  )

  /** A `quota` deployment started with `n`, once it paused at `check-quota`. */
  const paused = (n = 1) =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const id = yield* actions.start(Quota, { n }, { application })
      yield* readUntil(id, (d) => d.status === "paused")
      return id
    })

  layer(TestLayer, { excludeTestServices: true, timeout: "60 seconds" })(`operator HTTP operations (${name})`, (it) => {
    it.effect("retries a paused deployment with new inputs through HTTP until it succeeds", () =>
      Effect.gen(function*() {
        const id = yield* paused(1)
        const listed = yield* call("GET", `/ops/deployments?application=${application}&status=paused`)
        assert.strictEqual(listed.status, 200, listed.text)
        assert.include((record(listed.body).items as Array<Record<string, unknown>>).map((item) => item.id), id)
        const before = record((yield* call("GET", `/ops/deployments/${id}`)).body)
        assert.deepStrictEqual([before.status, record(before.failure).tag, before.history], ["paused", "Boom", []])

        // Still under the quota: the job fails again, and the deployment pauses again.
        const low = yield* call("POST", `/ops/deployments/${id}/retry`, { body: { input: { n: 5 }, reason: "try 5" } })
        assert.strictEqual(low.status, 200, low.text)
        assert.deepStrictEqual(low.body, { deploymentId: id, operation: "retry", outcome: "done" })
        yield* readUntil(id, (d) => d.status === "paused" && d.jobs[1]?.attempts === 2)

        const enough = yield* call("POST", `/ops/deployments/${id}/retry`, {
          body: { input: { n: quotaLimit + 2 }, reason: "quota raised" }
        })
        assert.strictEqual(enough.status, 200, enough.text)
        yield* readUntil(id, (d) => d.status === "succeeded")

        const after = yield* call("GET", `/ops/deployments/${id}`)
        const deployment = record(after.body)
        assert.deepStrictEqual(deployment.output, { n: quotaLimit + 2 })
        const jobs = deployment.jobs as Array<Record<string, unknown>>
        assert.deepStrictEqual([jobs[1]!.input, jobs[1]!.attempts], [{ n: quotaLimit + 2 }, 3])
        const entries = deployment.history as Array<Record<string, unknown>>
        assert.deepStrictEqual(
          entries.map((entry) => [entry.sequence, entry.operation, entry.outcome, entry.reason, entry.job, entry.detail]),
          [
            [entries[0]!.sequence, "retry", "done", "try 5", "check-quota", { replacedInput: { n: 1 } }],
            [entries[1]!.sequence, "retry", "done", "quota raised", "check-quota", { replacedInput: { n: 5 } }]
          ]
        )
        assert.isAbove(entries[1]!.sequence as number, entries[0]!.sequence as number)
        assert.isTrue(entries.every((entry) => isIsoTimestamp(entry.at) && typeof entry.by === "string"))
        assert.isFalse("request" in deployment, "no request is pending")
      }))

    it.effect("rolls a paused deployment back, with the body left out, and through the typed client", () =>
      Effect.gen(function*() {
        const bare = yield* paused()
        const rolled = yield* call("POST", `/ops/deployments/${bare}/rollback`)
        assert.strictEqual(rolled.status, 200, rolled.text)
        assert.deepStrictEqual(rolled.body, { deploymentId: bare, operation: "rollback", outcome: "done" })
        yield* readUntil(bare, (d) => d.status === "rolled_back")
        const deployment = record((yield* call("GET", `/ops/deployments/${bare}`)).body)
        assert.deepStrictEqual(history(deployment), [["rollback", "done"]])
        assert.deepStrictEqual((deployment.jobs as Array<Record<string, unknown>>).map((job) => job.status), [
          "rolled_back",
          "rolled_back"
        ])

        const client = yield* typedClient
        const typed = yield* paused()
        const receipt = yield* client.operator.rollback({ params: { id: typed }, payload: { reason: "give up" } })
        assert.deepStrictEqual(receipt, { deploymentId: typed, operation: "rollback", outcome: "done", restartedAs: Option.none() })
        const done = yield* readUntil(typed, (d) => d.status === "rolled_back")
        assert.deepStrictEqual(done.history.map((entry) => Option.getOrUndefined(entry.reason)), ["give up"])
        const fetched = yield* client.operator.get({ params: { id: typed } })
        assert.deepStrictEqual(fetched.history.map((entry) => entry.operation), ["rollback"])
      }))

    it.effect("stops a paused deployment with a reason: it rolls back with ExecutionStopped", () =>
      Effect.gen(function*() {
        const id = yield* paused()
        const stopped = yield* call("POST", `/ops/deployments/${id}/stop`, { body: { reason: "wrong region" } })
        assert.strictEqual(stopped.status, 200, stopped.text)
        assert.deepStrictEqual(stopped.body, { deploymentId: id, operation: "stop", outcome: "done" })
        const deployment = yield* readUntil(id, (d) => d.status === "rolled_back")
        assert.strictEqual(Option.getOrThrow(deployment.failure).tag, "ExecutionStopped")
        const view = record((yield* call("GET", `/ops/deployments/${id}`)).body)
        assert.deepStrictEqual(
          (view.history as Array<Record<string, unknown>>).map((entry) => [entry.operation, entry.outcome, entry.reason]),
          [["stop", "done", "wrong region"]]
        )
      }))

    it.effect("runs the failed rollbacks of a rollback_failed deployment again", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const id = yield* actions.start(Teardown, { n: 0 }, { application })
        yield* readUntil(id, (d) => d.status === "rollback_failed")
        const retried = yield* call("POST", `/ops/deployments/${id}/retry-rollback`, { body: { reason: "fixed" } })
        assert.strictEqual(retried.status, 200, retried.text)
        assert.deepStrictEqual(retried.body, { deploymentId: id, operation: "retry_rollback", outcome: "done" })
        const deployment = yield* readUntil(id, (d) => d.status === "rolled_back")
        assert.deepStrictEqual(deployment.jobs.map((job) => job.status), ["rolled_back", "rolled_back"])
        assert.deepStrictEqual(history((yield* call("GET", `/ops/deployments/${id}`)).body), [["retry_rollback", "done"]])
      }))

    it.effect("restarts a finished deployment: the receipt names the new one, linked to it by restartOf", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "again" }, { application })
        const restarted = yield* call("POST", `/ops/deployments/${deploymentId}/restart`, {
          body: { key: `restart-${deploymentId}`, reason: "redo" }
        })
        assert.strictEqual(restarted.status, 200, restarted.text)
        const receipt = record(restarted.body)
        assert.deepStrictEqual([receipt.deploymentId, receipt.operation, receipt.outcome], [deploymentId, "restart", "done"])
        const restartedAs = receipt.restartedAs
        assert.isString(restartedAs)
        assert.notStrictEqual(restartedAs, deploymentId)
        yield* readUntil(restartedAs as string, (d) => d.status === "succeeded")
        const fresh = record((yield* call("GET", `/ops/deployments/${restartedAs as string}`)).body)
        assert.deepStrictEqual([fresh.restartOf, fresh.key], [deploymentId, `restart-${deploymentId}`])
        assert.deepStrictEqual((fresh.jobs as Array<Record<string, unknown>>)[0]!.input, { name: "again" })
        const original = record((yield* call("GET", `/ops/deployments/${deploymentId}`)).body)
        const [entry] = original.history as Array<Record<string, unknown>>
        assert.deepStrictEqual([entry!.operation, entry!.outcome, entry!.detail], ["restart", "done", { restartedAs }])
      }))

    it.effect("answers 202 and a request where the action is missing; a process that has it carries it out", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const other = yield* serverWithoutActions
        const id = yield* paused()

        const requested = yield* call("POST", `/ops/deployments/${id}/retry`, {
          body: { input: { n: quotaLimit }, reason: "from elsewhere" }
        }).pipe(through(other))
        assert.strictEqual(requested.status, 202, requested.text)
        assert.deepStrictEqual(requested.body, { deploymentId: id, operation: "retry", outcome: "requested" })
        const pending = record((yield* call("GET", `/ops/deployments/${id}`)).body)
        assert.strictEqual(pending.status, "paused")
        const request = record(pending.request)
        assert.deepStrictEqual(
          [request.operation, request.by, request.input, request.reason],
          ["retry", withoutActionsOwner, { n: quotaLimit }, "from elsewhere"]
        )
        assert.isTrue(isIsoTimestamp(request.at) && typeof request.id === "string")
        assert.deepStrictEqual(history(pending), [["retry", "requested"]])
        const summary = (record((yield* call("GET", `/ops/deployments?application=${application}&status=paused`)).body)
          .items as Array<Record<string, unknown>>).find((item) => item.id === id)
        assert.strictEqual(record(summary?.request).operation, "retry", "list shows the pending request")

        // One request at a time.
        const second = yield* call("POST", `/ops/deployments/${id}/rollback`).pipe(through(other))
        assert.strictEqual(second.status, 409, second.text)
        assert.deepStrictEqual([record(second.body)._tag, record(second.body).reason], ["OperationRefused", "request_pending"])

        assert.deepStrictEqual((yield* actions.resume()).carried, [id])
        yield* readUntil(id, (d) => d.status === "succeeded")
        const carried = record((yield* call("GET", `/ops/deployments/${id}`)).body)
        assert.isFalse("request" in carried)
        assert.deepStrictEqual(history(carried), [["retry", "requested"], ["retry", "done"]])
        assert.match((carried.history as Array<Record<string, unknown>>)[1]!.message as string, new RegExp(`carried out by ${actions.owner}`))

        // A restart requested elsewhere has its new id at once.
        const { deploymentId } = yield* actions.execute(Provision, { name: "later" }, { application })
        const restart = yield* call("POST", `/ops/deployments/${deploymentId}/restart`).pipe(through(other))
        assert.strictEqual(restart.status, 202, restart.text)
        const restartedAs = record(restart.body).restartedAs
        assert.isString(restartedAs)
        yield* actions.resume()
        const fresh = yield* readUntil(restartedAs as string, (d) => d.status === "succeeded")
        assert.deepStrictEqual(Option.getOrUndefined(fresh.restartOf), deploymentId)

        // A request that does not apply where it is carried out is refused there, and the refusal recorded.
        const again = yield* paused()
        const misfit = yield* call("POST", `/ops/deployments/${again}/retry`, { body: { input: { n: "ten" } } }).pipe(
          through(other)
        )
        assert.strictEqual(misfit.status, 202, misfit.text)
        yield* actions.resume()
        const refused = record((yield* call("GET", `/ops/deployments/${again}`)).body)
        assert.deepStrictEqual([refused.status, "request" in refused], ["paused", false])
        assert.deepStrictEqual(history(refused), [["retry", "requested"], ["retry", "refused"]])
        assert.match((refused.history as Array<Record<string, unknown>>)[1]!.message as string, /check-quota/)
      }))

    it.effect("applies an operation in bulk: a dry run counts and lists, the real run reports each deployment", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const since = DateTime.formatIso(yield* DateTime.now)
        const ids = [yield* paused(), yield* paused()]
        const { deploymentId: succeeded } = yield* actions.execute(Provision, { name: "bulk" }, { application })
        const filter = { application, action: "quota", createdAfter: since }

        const dry = yield* call("POST", "/ops/bulk", { body: { operation: "rollback", filter, dryRun: true } })
        assert.strictEqual(dry.status, 200, dry.text)
        const preview = record(dry.body)
        assert.deepStrictEqual([preview.operation, preview.dryRun, preview.matched, preview.items], ["rollback", true, 2, []])
        assert.deepStrictEqual([...(preview.ids as Array<string>)].sort(), [...ids].sort())
        for (const id of ids) assert.strictEqual((yield* actions.get(id)).status, "paused", "a dry run changes nothing")
        const none = yield* call("POST", "/ops/bulk", {
          body: { operation: "rollback", filter: { ...filter, createdBefore: since }, dryRun: true }
        })
        assert.strictEqual(record(none.body).matched, 0)

        const real = yield* call("POST", "/ops/bulk", { body: { operation: "rollback", filter, reason: "incident 7" } })
        assert.strictEqual(real.status, 200, real.text)
        const result = record(real.body)
        assert.deepStrictEqual([result.dryRun, result.matched], [false, 2])
        assert.deepStrictEqual(
          (result.items as Array<Record<string, unknown>>).map((item) => [item.deploymentId, item.outcome]),
          (result.ids as Array<string>).map((id) => [id, "done"])
        )
        for (const id of ids) {
          const deployment = yield* readUntil(id, (d) => d.status === "rolled_back")
          assert.deepStrictEqual(Option.getOrUndefined(deployment.history[0]!.reason), "incident 7")
        }

        // A deployment the operation does not apply to is reported refused, with why.
        const mixed = yield* call("POST", "/ops/bulk", {
          body: { operation: "retry", filter: { application, statuses: ["succeeded"], createdAfter: since } }
        })
        assert.strictEqual(mixed.status, 200, mixed.text)
        const [item] = record(mixed.body).items as Array<Record<string, unknown>>
        assert.deepStrictEqual([item!.deploymentId, item!.outcome], [succeeded, "refused"])
        assert.match(item!.message as string, /retry applies to a paused deployment/)
      }))

    it.effect("answers 400 for a body that does not decode, an argument Actions refuses, or an input that does not fit", () =>
      Effect.gen(function*() {
        const id = yield* paused()
        const cases: ReadonlyArray<readonly [string, unknown, string, string]> = [
          [`/ops/deployments/${id}/retry`, { reason: 5 }, "InvalidArgument", "retry"],
          [`/ops/deployments/${id}/retry`, { reason: "r".repeat(4097) }, "InvalidArgument", "retry"],
          [`/ops/deployments/${id}/stop`, { reason: ["no"] }, "InvalidArgument", "stop"],
          [`/ops/deployments/${id}/rollback`, "{not json", "InvalidArgument", "rollback"],
          [`/ops/deployments/${id}/retry-rollback`, { reason: "a\u0000b" }, "InvalidArgument", "retry_rollback"],
          [`/ops/deployments/${id}/restart`, { key: 7 }, "InvalidArgument", "restart"],
          ["/ops/bulk", { operation: "restart" }, "InvalidArgument", "bulk"],
          ["/ops/bulk", {}, "InvalidArgument", "bulk"],
          ["/ops/bulk", { operation: "retry", filter: { createdBefore: "yesterday" } }, "InvalidArgument", "bulk"],
          ["/ops/bulk", { operation: "retry", filter: { statuses: ["lost"] } }, "InvalidArgument", "bulk"],
          ["/ops/bulk", { operation: "retry", filter: { application: "" } }, "InvalidArgument", "bulk"]
        ]
        for (const [path, body, tag, operation] of cases) {
          const answer = yield* call("POST", path, { body })
          assert.strictEqual(answer.status, 400, `${path} ${JSON.stringify(body)}: ${answer.text}`)
          assert.deepStrictEqual(
            [record(answer.body)._tag, record(answer.body).operation],
            [tag, operation],
            `${path} ${JSON.stringify(body)}: ${answer.text}`
          )
          assert.isString(record(answer.body).argument)
        }
        const input = yield* call("POST", `/ops/deployments/${id}/retry`, { body: { input: { n: "ten" } } })
        assert.strictEqual(input.status, 400, input.text)
        assert.deepStrictEqual(
          [record(input.body)._tag, record(input.body).job, record(input.body).path],
          ["InputValidationError", "check-quota", "n"]
        )
        const unchanged = yield* Effect.flatMap(Actions.Actions, (actions) => actions.get(id))
        assert.deepStrictEqual([unchanged.status, unchanged.history], ["paused", []], "a 400 changes nothing")
      }))

    it.effect("answers 404 for an unknown deployment on every operation", () =>
      Effect.gen(function*() {
        const unknown = crypto.randomUUID()
        for (const operation of ["stop", "retry", "rollback", "retry-rollback", "restart"]) {
          const answer = yield* call("POST", `/ops/deployments/${unknown}/${operation}`, { body: {} })
          assert.strictEqual(answer.status, 404, `${operation}: ${answer.text}`)
          assert.deepStrictEqual(answer.body, { _tag: "DeploymentNotFound", deploymentId: unknown })
        }
      }))

    it.effect("answers 409 when the operation does not apply to the deployment, or its stored data does not decode", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "settled" }, { application })
        for (const operation of ["retry", "rollback", "retry-rollback"]) {
          const answer = yield* call("POST", `/ops/deployments/${deploymentId}/${operation}`)
          assert.strictEqual(answer.status, 409, `${operation}: ${answer.text}`)
          const body = record(answer.body)
          assert.deepStrictEqual(
            [body._tag, body.deploymentId, body.reason, body.status],
            ["OperationRefused", deploymentId, "status", "succeeded"],
            operation
          )
          assert.isString(body.detail)
        }
        const stop = yield* call("POST", `/ops/deployments/${deploymentId}/stop`, { body: { reason: "late" } })
        assert.strictEqual(stop.status, 409, stop.text)
        assert.deepStrictEqual(stop.body, { _tag: "DeploymentNotRunning", deploymentId, status: "succeeded" })

        const running = yield* actions.start(Hold, { name: "busy" }, { application })
        yield* readUntil(running, (d) => d.jobs[1]?.status === "running")
        const restart = yield* call("POST", `/ops/deployments/${running}/restart`)
        assert.strictEqual(restart.status, 409, restart.text)
        assert.deepStrictEqual([record(restart.body)._tag, record(restart.body).status], ["OperationRefused", "running"])
        yield* actions.stop(running)

        // A paused deployment parked because its stored data does not decode: no operation applies until repaired.
        const store = yield* DeploymentStore.DeploymentStore
        const snapshot = makeSnapshot({ application, action: "quota", jobs: 2 })
        const parked = {
          ...snapshot,
          deployment: {
            ...snapshot.deployment,
            status: "paused" as const,
            owner: undefined,
            parked: { field: "input", issue: "written by hand", at: snapshot.deployment.createdAt }
          }
        }
        yield* store.create(parked, { leaseTtlMillis: 30_000 })
        const corrupt = yield* call("POST", `/ops/deployments/${parked.deployment.id}/retry`)
        assert.strictEqual(corrupt.status, 409, corrupt.text)
        assert.deepStrictEqual([record(corrupt.body)._tag, record(corrupt.body).deploymentId], [
          "StoredDataCorrupt",
          parked.deployment.id
        ])
      }))

    it.effect("answers 503 when the store is unavailable, and decodes receipts of both outcomes with the typed client", () =>
      Effect.gen(function*() {
        const faults = yield* Faults
        const unknown = crypto.randomUUID()
        const paths = [...["stop", "retry", "rollback", "retry-rollback", "restart"].map((operation) =>
          `/ops/deployments/${unknown}/${operation}`
        ), "/ops/bulk"]
        for (const path of paths) {
          const body = path === "/ops/bulk" ? { operation: "stop", dryRun: true } : {}
          const answer = yield* Effect.sync(() => void (faults.mode = "connection")).pipe(
            Effect.andThen(call("POST", path, { body })),
            Effect.ensuring(Effect.sync(() => void (faults.mode = "none")))
          )
          assert.strictEqual(answer.status, 503, `${path}: ${answer.text}`)
          assert.deepStrictEqual([record(answer.body)._tag, record(answer.body).reason], ["PersistenceError", "connection"])
          assert.isFalse("cause" in record(answer.body))
        }

        const client = yield* typedClient
        const elsewhere = yield* typedClient.pipe(through(yield* serverWithoutActions))
        const requested = yield* paused()
        const receipt = yield* elsewhere.operator.retry({ params: { id: requested }, payload: null })
        assert.deepStrictEqual(receipt, {
          deploymentId: requested,
          operation: "retry",
          outcome: "requested",
          restartedAs: Option.none()
        })
        const result = yield* client.operator.bulk({
          payload: { operation: "retry", filter: { application, createdAfter: DateTime.makeUnsafe(0) }, dryRun: true }
        })
        assert.isTrue(result.dryRun)
        assert.include(result.ids, requested)
      }))

    it.effect("streams a deployment's pause, its pending request and its leaving a status=paused filter", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const other = yield* serverWithoutActions
        const client = yield* typedClient
        const stream = yield* client.operator.events({ query: { application, status: ["paused"] } })
        const seen: Array<OperatorApi.DeploymentEvent> = []
        const connected = yield* Deferred.make<void>()
        const progressed = yield* Deferred.make<void>()
        let watched: string | undefined
        const changes = () =>
          seen.flatMap((event) =>
            event._tag === "DeploymentChanged" && event.deployment.id === watched ? [event.deployment] : []
          )
        const consumer = yield* stream.pipe(
          Stream.runForEach((event) =>
            Effect.gen(function*() {
              seen.push(event.data)
              if (event.data._tag === "Heartbeat") yield* Deferred.succeed(connected, undefined)
              // Leaving the filter: the feed reads it once more and reports that, then forgets it. Whether that read
              // finds it running (the retry under way) or succeeded already depends on when the poll comes.
              if (changes().some((d) => d.status !== "paused")) yield* Deferred.succeed(progressed, undefined)
            })
          ),
          Effect.forkScoped
        )
        yield* Deferred.await(connected).pipe(Effect.timeout("10 seconds"))
        watched = yield* paused()
        const waitFor = (predicate: (d: OperatorApi.DeploymentSummaryView) => boolean) =>
          Effect.gen(function*() {
            for (let attempt = 0; attempt < 250; attempt++) {
              if (changes().some(predicate)) return
              yield* Effect.sleep("20 millis")
            }
            return yield* Effect.die(new Error(`the stream never showed it: ${JSON.stringify(changes())}`))
          })
        yield* waitFor((d) => d.status === "paused" && Option.isNone(d.request))
        yield* call("POST", `/ops/deployments/${watched}/retry`, { body: { input: { n: quotaLimit } } }).pipe(through(other))
        yield* waitFor((d) => d.status === "paused" && Option.isSome(d.request))
        yield* actions.resume()
        yield* Deferred.await(progressed).pipe(Effect.timeout("15 seconds"))
        yield* Fiber.interrupt(consumer)

        const statuses = changes().map((d) => d.status)
        assert.strictEqual(statuses[0], "paused")
        assert.include(["running", "succeeded"], statuses[statuses.length - 1], "its last change, as it leaves the filter")
        const withRequest = changes().find((d) => Option.isSome(d.request))
        assert.strictEqual(Option.getOrThrow(withRequest!.request).operation, "retry")
      }), { timeout: 30_000 })
  })
}

describe("OperatorHttp operations", () => {
  operationsSuite("memory store", DeploymentStore.layerMemory)
  operationsSuite("PostgreSQL", storeLayer(uniquePrefix()).pipe(Layer.provide(PgLive)))
})
