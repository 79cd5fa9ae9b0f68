/**
 * The operator HTTP API on a real server on 127.0.0.1, called with effect's `HttpClient` (the raw wire: status
 * codes, JSON bodies, SSE text) and with the typed `HttpApiClient`; against the memory store and PostgreSQL.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { DateTime, Deferred, Effect, Fiber, Layer, Option, Schema, Stream } from "effect"
import { Actions, DeploymentStore } from "effect-actions"
import { OperatorApi, OperatorHttp } from "effect-actions/http"
import { HttpClient, HttpRouter, HttpServer } from "effect/http"
import { makeSnapshot } from "effect-actions/testing"
import { PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"
import { call, isIsoTimestamp, readUntil, record, typedClient } from "./support/http.ts"
import { Explode, faultyStore, Faults, Hold, operatorToken, Provision, registerAll, serveOperator } from "./support/operator.ts"

const operatorSuite = <E>(
  name: string,
  store: Layer.Layer<DeploymentStore.DeploymentStore, E>
) => {
  const application = `ops-${crypto.randomUUID().slice(0, 8)}`
  const TestLayer = serveOperator().pipe(
    Layer.provideMerge(Layer.effectDiscard(registerAll(application))),
    Layer.provideMerge(Actions.layer({ recovery: { enabled: false } })),
    Layer.provideMerge(faultyStore(store))
  )
  const withFaults = (mode: "connection" | "conflict") => <A, E2, R>(effect: Effect.Effect<A, E2, R>) =>
    Effect.flatMap(Faults, (faults) =>
      Effect.ensuring(
        Effect.andThen(Effect.sync(() => void (faults.mode = mode)), effect),
        Effect.sync(() => void (faults.mode = "none"))
      ))

  layer(TestLayer, { excludeTestServices: true, timeout: "60 seconds" })(`operator HTTP API (${name})`, (it) => {
    it.effect("lists deployments newest first, filtered, page by page with the cursor", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const ids: Array<string> = []
        for (const n of [1, 2, 3]) {
          ids.push((yield* actions.execute(Provision, { name: `list-${n}` }, { application })).deploymentId)
          // creation times a millisecond apart at least: two in the same millisecond are ordered by id
          yield* Effect.sleep("2 millis")
        }
        const first = yield* call("GET", `/ops/deployments?application=${application}&action=provision&status=succeeded&limit=2`)
        assert.strictEqual(first.status, 200, first.text)
        const page = record(first.body)
        const items = page.items as Array<Record<string, unknown>>
        assert.deepStrictEqual(items.map((item) => item.id), [ids[2], ids[1]])
        assert.deepStrictEqual(page.unreadable, [])
        assert.isString(page.next)
        const item = items[0]!
        assert.isFalse("jobs" in item, "list items have no job records")
        assert.isFalse("key" in item, "an absent key is an absent property")
        assert.isTrue(isIsoTimestamp(item.createdAt) && isIsoTimestamp(item.updatedAt), JSON.stringify(item))
        assert.deepStrictEqual([item.status, item.application, item.action], ["succeeded", application, "provision"])
        assert.notInclude(first.text, "_id", "no Option leaks as {_id: Option}")

        const cursor = encodeURIComponent(page.next as string)
        const second = yield* call("GET", `/ops/deployments?application=${application}&action=provision&status=succeeded&limit=2&cursor=${cursor}`)
        assert.strictEqual(second.status, 200, second.text)
        const rest = record(second.body)
        assert.deepStrictEqual((rest.items as Array<Record<string, unknown>>).map((i) => i.id), [ids[0]])
        assert.isFalse("next" in rest, "the last page has no next cursor")

        const none = yield* call("GET", `/ops/deployments?application=${application}&status=rolling_back&status=rollback_failed`)
        assert.deepStrictEqual(record(none.body).items, [])
      }))

    it.effect("reads a deployment with every job's status, attempts, times, input and output", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "web" }, { application, key: "web-1" })
        const got = yield* call("GET", `/ops/deployments/${deploymentId}`)
        assert.strictEqual(got.status, 200, got.text)
        const deployment = record(got.body)
        assert.deepStrictEqual([deployment.id, deployment.key, deployment.status], [deploymentId, "web-1", "succeeded"])
        assert.deepStrictEqual(deployment.output, { url: "https://web.example.test" })
        const jobs = deployment.jobs as Array<Record<string, unknown>>
        assert.deepStrictEqual(jobs.map((job) => [job.index, job.name, job.status, job.attempts]), [
          [0, "create-machine", "succeeded", 1],
          [1, "announce", "succeeded", 1]
        ])
        assert.deepStrictEqual([jobs[0]!.input, jobs[0]!.output], [{ name: "web" }, { name: "web", machine: "m-web" }])
        assert.isTrue(jobs.every((job) => isIsoTimestamp(job.startedAt) && isIsoTimestamp(job.finishedAt)))

        // A job not reached yet has no input, output or times: absent keys, not nulls.
        const held = yield* actions.start(Hold, { name: "pending" }, { application })
        yield* readUntil(held, (d) => d.jobs[1]?.status === "running")
        const running = record((yield* call("GET", `/ops/deployments/${held}`)).body)
        const wait = (running.jobs as Array<Record<string, unknown>>)[1]!
        assert.deepStrictEqual(Object.keys(wait).sort(), ["attempts", "earlierAttempts", "index", "input", "name", "startedAt", "status"])
        yield* actions.stop(held)
      }))

    it.effect("decodes responses into the models with the typed client", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "typed" }, { application })
        const client = yield* typedClient
        const deployment = yield* client.operator.get({ params: { id: deploymentId } })
        assert.isTrue(Option.isNone(deployment.key))
        assert.isTrue(DateTime.isDateTime(deployment.createdAt))
        const encode = Schema.encodeSync(OperatorApi.DeploymentView)
        assert.deepStrictEqual(encode(deployment), encode(yield* actions.get(deploymentId)), "the values of Actions.get")
        const missing = yield* Effect.flip(client.operator.get({ params: { id: crypto.randomUUID() } }))
        assert.strictEqual(missing._tag, "DeploymentNotFound")
      }))

    it.effect("starts a deployment by name with 202 and its id; the same key joins it", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const body = { application, action: "provision", input: { name: "by-name" }, key: "by-name-1" }
        const started = yield* call("POST", "/ops/deployments", { body })
        assert.strictEqual(started.status, 202, started.text)
        const { deploymentId } = record(started.body)
        assert.isString(deploymentId)
        const result = yield* actions.awaitById(deploymentId as string)
        assert.deepStrictEqual(result.output, { url: "https://by-name.example.test" })
        const again = yield* call("POST", "/ops/deployments", { body })
        assert.strictEqual(record(again.body).deploymentId, deploymentId)
      }))

    it.effect("reads the error log, all of it or one job's part", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const id = yield* actions.start(Explode, { name: "boom" }, { application })
        yield* Effect.flip(actions.awaitById(id))
        const all = yield* call("GET", `/ops/deployments/${id}/errors`)
        assert.strictEqual(all.status, 200, all.text)
        const log = record(all.body)
        assert.strictEqual(log.deploymentId, id)
        const entries = log.items as Array<Record<string, unknown>>
        assert.isAtLeast(entries.length, 1)
        assert.deepStrictEqual([entries[0]!.job, entries[0]!.phase, entries[0]!.tag], ["ignite", "execute", "Boom"])
        assert.isTrue(isIsoTimestamp(entries[0]!.at))
        const ofJob = yield* call("GET", `/ops/deployments/${id}/errors?job=ignite`)
        assert.deepStrictEqual(record(ofJob.body).items, entries)
        const ofOther = yield* call("GET", `/ops/deployments/${id}/errors?job=announce`)
        assert.deepStrictEqual(record(ofOther.body).items, [])
      }))

    it.effect("stops a running deployment with 200 and the receipt; it rolls back wherever it runs", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const id = yield* actions.start(Hold, { name: "stop-me" }, { application })
        yield* readUntil(id, (d) => d.jobs[1]?.status === "running")
        const stopped = yield* call("POST", `/ops/deployments/${id}/stop`)
        assert.strictEqual(stopped.status, 200, stopped.text)
        assert.deepStrictEqual(stopped.body, { deploymentId: id, operation: "stop", outcome: "done" })
        const failure = yield* Effect.flip(actions.awaitById(id))
        assert.strictEqual(failure._tag, "DeploymentFailed")
        const after = record((yield* call("GET", `/ops/deployments/${id}`)).body)
        assert.strictEqual(after.status, "rolled_back")
        assert.strictEqual(record(after.failure).tag, "ExecutionStopped")
      }))

    it.effect("answers 400 with InvalidArgument or InputValidationError naming what is wrong", () =>
      Effect.gen(function*() {
        const limit = yield* call("GET", "/ops/deployments?limit=0")
        assert.strictEqual(limit.status, 400, limit.text)
        assert.deepStrictEqual(
          [record(limit.body)._tag, record(limit.body).operation, record(limit.body).argument],
          ["InvalidArgument", "list", "query.limit"]
        )
        const status = yield* call("GET", "/ops/deployments?status=exploded")
        assert.strictEqual(status.status, 400)
        assert.strictEqual(record(status.body)._tag, "InvalidArgument")

        const cursor = yield* call("GET", "/ops/deployments?cursor=not-a-cursor")
        assert.strictEqual(cursor.status, 400, cursor.text)
        assert.deepStrictEqual([record(cursor.body)._tag, record(cursor.body).reason], ["PersistenceError", "invalid"])

        const input = yield* call("POST", "/ops/deployments", {
          body: { application, action: "provision", input: { name: 42 } }
        })
        assert.strictEqual(input.status, 400, input.text)
        assert.deepStrictEqual(
          [record(input.body)._tag, record(input.body).job, record(input.body).path],
          ["InputValidationError", "create-machine", "name"]
        )
        const notJson = yield* call("POST", "/ops/deployments", { body: "{not json" })
        assert.strictEqual(notJson.status, 400)
        assert.deepStrictEqual([record(notJson.body)._tag, record(notJson.body).argument], ["InvalidArgument", "payload"])

        const prune = yield* call("POST", "/ops/prune", { body: { olderThan: "soon" } })
        assert.strictEqual(prune.status, 400, prune.text)
        assert.deepStrictEqual([record(prune.body)._tag, record(prune.body).argument], ["InvalidArgument", "olderThan"])
      }))

    it.effect("answers 404 for an unknown deployment or action", () =>
      Effect.gen(function*() {
        const unknown = crypto.randomUUID()
        for (const [method, path] of [
          ["GET", `/ops/deployments/${unknown}`],
          ["GET", `/ops/deployments/${unknown}/errors`],
          ["POST", `/ops/deployments/${unknown}/stop`]
        ] as const) {
          const answer = yield* call(method, path)
          assert.strictEqual(answer.status, 404, `${method} ${path}: ${answer.text}`)
          assert.deepStrictEqual(answer.body, { _tag: "DeploymentNotFound", deploymentId: unknown })
        }
        const action = yield* call("POST", "/ops/deployments", { body: { application, action: "nope", input: {} } })
        assert.strictEqual(action.status, 404, action.text)
        assert.deepStrictEqual([record(action.body)._tag, record(action.body).action], ["ActionNotFound", "nope"])
      }))

    it.effect("answers 409 for a deployment that is not running, corrupt stored data, and a lost race", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "done" }, { application })
        const notRunning = yield* call("POST", `/ops/deployments/${deploymentId}/stop`)
        assert.strictEqual(notRunning.status, 409, notRunning.text)
        assert.deepStrictEqual(notRunning.body, { _tag: "DeploymentNotRunning", deploymentId, status: "succeeded" })

        // A failure record no runtime writes (the JSON is valid, its shape is not): the row does not decode.
        const store = yield* DeploymentStore.DeploymentStore
        const snapshot = makeSnapshot({ application, action: "provision", jobs: 2 })
        const failure = { bogus: true } as unknown as DeploymentStore.FailureRow
        const corrupt = { ...snapshot, deployment: { ...snapshot.deployment, failure } }
        yield* store.create(corrupt, { leaseTtlMillis: 30_000 })
        const unreadable = yield* call("GET", `/ops/deployments/${corrupt.deployment.id}`)
        assert.strictEqual(unreadable.status, 409, unreadable.text)
        assert.deepStrictEqual([record(unreadable.body)._tag, record(unreadable.body).deploymentId], [
          "StoredDataCorrupt",
          corrupt.deployment.id
        ])

        const conflict = yield* call("GET", "/ops/deployments").pipe(withFaults("conflict"))
        assert.strictEqual(conflict.status, 409, conflict.text)
        assert.deepStrictEqual([record(conflict.body)._tag, record(conflict.body).reason], ["PersistenceError", "conflict"])
      }))

    it.effect("answers 503 when the store is unavailable, without the driver's error", () =>
      Effect.gen(function*() {
        const unknown = crypto.randomUUID()
        for (const [method, path] of [
          ["GET", "/ops/deployments"],
          ["GET", `/ops/deployments/${unknown}`],
          ["POST", `/ops/deployments/${unknown}/stop`],
          ["POST", "/ops/prune"]
        ] as const) {
          const answer = yield* call(method, path, path === "/ops/prune" ? { body: { olderThan: "30d" } } : {}).pipe(
            withFaults("connection")
          )
          assert.strictEqual(answer.status, 503, `${method} ${path}: ${answer.text}`)
          const body = record(answer.body)
          assert.deepStrictEqual([body._tag, body.reason], ["PersistenceError", "connection"])
          assert.isFalse("cause" in body)
        }
      }))

    it.effect("serves its OpenAPI document under the prefix", () =>
      Effect.gen(function*() {
        const answer = yield* call("GET", "/ops/openapi.json")
        assert.strictEqual(answer.status, 200)
        const spec = record(answer.body)
        assert.strictEqual(spec.openapi, "3.1.0")
        assert.deepStrictEqual(spec.servers, [{ url: "/ops" }])
        const paths = record(spec.paths)
        assert.includeMembers(Object.keys(paths), [
          "/deployments",
          "/deployments/{id}",
          "/deployments/{id}/errors",
          "/deployments/{id}/stop",
          "/deployments/{id}/retry",
          "/deployments/{id}/rollback",
          "/deployments/{id}/retry-rollback",
          "/deployments/{id}/restart",
          "/bulk",
          "/prune",
          "/events"
        ])
        const getResponses = Object.keys(record(record(record(paths["/deployments/{id}"]).get).responses))
        assert.includeMembers(getResponses, ["200", "400", "404", "409", "503"])
        for (const operation of ["stop", "retry", "rollback", "retry-rollback", "restart"]) {
          const post = record(record(paths[`/deployments/{id}/${operation}`]).post)
          const responses = record(post.responses)
          assert.includeMembers(Object.keys(responses), ["200", "202", "400", "404", "409", "503"], operation)
          assert.deepStrictEqual(
            [record(responses["200"]).content, record(responses["202"]).content].map((content) =>
              record(record(record(content)["application/json"]).schema).$ref
            ),
            ["#/components/schemas/OperationDone", "#/components/schemas/OperationRequested"],
            operation
          )
          const requestBody = record(post.requestBody)
          assert.strictEqual(requestBody.required, false, `${operation}: the body may be left out`)
          assert.isString(record(record(record(requestBody.content)["application/json"]).schema).$ref, operation)
        }
        const schemas = record(record(spec.components).schemas)
        const deployment = record(record(schemas.Deployment).properties)
        assert.includeMembers(Object.keys(deployment), ["history", "request", "restartOf", "jobs"])
        assert.includeMembers(Object.keys(record(record(schemas.DeploymentSummary).properties)), ["request", "restartOf"])
        assert.notInclude(Object.keys(record(record(schemas.DeploymentSummary).properties)), "history")
        const bulk = record(record(paths["/bulk"]).post)
        assert.includeMembers(Object.keys(record(bulk.responses)), ["200", "400", "409", "503"])
        assert.include(answer.text, `"paused"`, "the paused status is in the document")
      }))

    it.effect("puts the user's middleware in front of every route of a mount", () =>
      Effect.gen(function*() {
        for (const path of ["/secure/deployments", "/secure/openapi.json", "/secure/events"]) {
          const refused = yield* call("GET", path)
          assert.strictEqual(refused.status, 401, `${path}: ${refused.text}`)
        }
        const allowed = yield* call("GET", `/secure/deployments?application=${application}`, { token: operatorToken })
        assert.strictEqual(allowed.status, 200, allowed.text)
      }))

    it.effect("streams the current state, then status and job changes of deployments, with heartbeats", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const before = (yield* actions.execute(Provision, { name: "before" }, { application })).deploymentId
        const client = yield* typedClient
        const stream = yield* client.operator.events({ query: { application } })
        const seen: Array<OperatorApi.DeploymentEvent> = []
        const connected = yield* Deferred.make<void>()
        const done = yield* Deferred.make<void>()
        let held: string | undefined
        const reached = () =>
          held !== undefined &&
          seen.some((event) =>
            event._tag === "DeploymentChanged" && event.deployment.id === held && event.deployment.status === "rolled_back"
          ) &&
          seen.some((event) =>
            event._tag === "JobChanged" && event.deploymentId === held && event.job.name === "wait" &&
            event.job.status !== "running"
          )
        const consumer = yield* stream.pipe(
          Stream.runForEach((event) =>
            Effect.gen(function*() {
              seen.push(event.data)
              if (event.data._tag === "Heartbeat") yield* Deferred.succeed(connected, undefined)
              if (reached()) yield* Deferred.succeed(done, undefined)
            })
          ),
          Effect.forkScoped
        )
        yield* Deferred.await(connected).pipe(Effect.timeout("10 seconds"))
        held = yield* actions.start(Hold, { name: "followed" }, { application })
        yield* readUntil(held, (d) => d.jobs[1]?.status === "running")
        // Wait for the stream to report the running job before stopping, so both transitions are seen.
        for (let attempt = 0; attempt < 250; attempt++) {
          if (seen.some((e) => e._tag === "JobChanged" && e.deploymentId === held && e.job.name === "wait" && e.job.status === "running")) break
          yield* Effect.sleep("20 millis")
        }
        yield* actions.stop(held)
        yield* Deferred.await(done).pipe(Effect.timeout("15 seconds"))
        yield* Fiber.interrupt(consumer)

        const initial = seen.find((e) => e._tag === "DeploymentChanged" && e.deployment.id === before)
        assert.isDefined(initial, "the initial state includes a deployment that finished before connecting")
        if (initial?._tag === "DeploymentChanged") assert.isTrue(Option.isNone(initial.previousStatus))
        const ofHeld = seen.filter((e) =>
          (e._tag === "DeploymentChanged" && e.deployment.id === held) || (e._tag === "JobChanged" && e.deploymentId === held)
        )
        const statuses = ofHeld.flatMap((e) => e._tag === "DeploymentChanged" ? [e.deployment.status] : [])
        assert.strictEqual(statuses[0], "running")
        assert.strictEqual(statuses[statuses.length - 1], "rolled_back")
        const waitJob = ofHeld.flatMap((e) => e._tag === "JobChanged" && e.job.name === "wait" ? [e.job.status] : [])
        assert.includeMembers(waitJob, ["running"])
        assert.notStrictEqual(waitJob[waitJob.length - 1], "running", `the wait job left running: ${waitJob.join(" → ")}`)
        const last = ofHeld[ofHeld.length - 1]
        assert.isDefined(last)
        assert.isAtLeast(seen.filter((e) => e._tag === "Heartbeat").length, 1)
      }))

    it.effect("sends named server-sent events, uncached, heartbeats first", () =>
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const response = yield* client.get(`/ops/events?application=${application}`)
        assert.strictEqual(response.status, 200)
        assert.match(response.headers["content-type"] ?? "", /^text\/event-stream/)
        assert.strictEqual(response.headers["cache-control"], "no-cache")
        const text = yield* response.stream.pipe(
          Stream.decodeText,
          Stream.scan(() => "", (all: string, chunk: string) => all + chunk),
          Stream.takeUntil((all) => /event: heartbeat\ndata: .*\n\n/.test(all) && /event: deployment\n/.test(all)),
          Stream.runLast,
          Effect.timeout("10 seconds")
        )
        const all = Option.getOrElse(text, () => "")
        const heartbeat = /event: heartbeat\ndata: (.*)\n/.exec(all)
        assert.isNotNull(heartbeat, all)
        const data = record(JSON.parse(heartbeat![1]!))
        assert.strictEqual(data._tag, "Heartbeat")
        assert.isTrue(isIsoTimestamp(data.at))
        const deployment = /event: deployment\ndata: (.*)\n/.exec(all)
        assert.strictEqual(record(JSON.parse(deployment![1]!))._tag, "DeploymentChanged")
      }).pipe(Effect.scoped))

    it.effect("stops reading the store once the client of a stream goes away", () =>
      Effect.gen(function*() {
        const faults = yield* Faults
        const before = faults.listCalls
        yield* Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const response = yield* client.get(`/ops/events?application=${application}`)
          yield* response.stream.pipe(Stream.decodeText, Stream.take(2), Stream.runDrain, Effect.timeout("10 seconds"))
        }).pipe(Effect.scoped)
        const afterClose = faults.listCalls
        assert.isAbove(afterClose, before, "the stream read the store while its client was there")
        // Ten poll intervals (50 ms) without a client: at most the poll in flight when it left may still read.
        yield* Effect.sleep("500 millis")
        assert.isAtMost(faults.listCalls - afterClose, 1, `list was called ${faults.listCalls - afterClose} times`)
      }))

    it.effect("prunes finished deployments older than the given age", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "old" }, { application })
        const young = yield* call("POST", "/ops/prune", { body: { olderThan: "30d" } })
        assert.strictEqual(young.status, 200, young.text)
        assert.deepStrictEqual(young.body, { pruned: 0 })
        // A bounded poll: the deployment is pruned once it is older than 1 ms.
        let pruned = 0
        for (let attempt = 0; attempt < 50 && pruned === 0; attempt++) {
          const old = yield* call("POST", "/ops/prune", { body: { olderThan: "1ms" } })
          assert.strictEqual(old.status, 200, old.text)
          pruned = record(old.body).pruned as number
        }
        assert.isAtLeast(pruned, 1)
        const gone = yield* call("GET", `/ops/deployments/${deploymentId}`)
        assert.strictEqual(gone.status, 404)
      }))
  })
}

describe("OperatorHttp", () => {
  it.effect("refuses options out of their range with InvalidOption, adding no route", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [OperatorHttp.Options, string]> = [
        [{ events: { window: 0 } }, "events.window"],
        [{ events: { window: 1.5 } }, "events.window"],
        [{ events: { pollInterval: 0 } }, "events.pollInterval"],
        [{ events: { heartbeat: "never" as "1 second" } }, "events.heartbeat"],
        [{ events: { maxDuration: "Infinity" } }, "events.maxDuration"],
        [{ prefix: "/ops/" }, "prefix"],
        [{ prefix: "/a b" }, "prefix"],
        [{ openapiPath: "/docs/" }, "openapiPath"]
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(
          Layer.build(OperatorHttp.layer(options)).pipe(
            Effect.provide(Layer.mergeAll(HttpRouter.layer, HttpServer.layerServices, Actions.layerMemory()))
          )
        )
        assert.deepStrictEqual([error._tag, error.option], ["InvalidOption", option], JSON.stringify(options))
      }
    }))

  operatorSuite("memory store", DeploymentStore.layerMemory)
  operatorSuite("PostgreSQL", storeLayer(uniquePrefix()).pipe(Layer.provide(PgLive)))
})
