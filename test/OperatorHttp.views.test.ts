/**
 * The operator API's reads for views (the dashboard): counts per status, a deployment's job data, the list by key
 * and creation time, and each job's rollback times; on a real server on 127.0.0.1, against the memory store and
 * PostgreSQL.
 */
import { assert, describe, layer } from "@effect/vitest"
import { DateTime, Effect, Layer, Schema } from "effect"
import { Action, Actions, DeploymentStore, Job, JobContext } from "effect-actions"
import { PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"
import { call, isIsoTimestamp, record } from "./support/http.ts"
import { Explode, faultyStore, Provision, registerAll, serveOperator, Teardown } from "./support/operator.ts"

const Name = Schema.Struct({ name: Schema.String })

/** `note`: one job that writes two job data entries. */
const Note = Action.make("note", [
  Job.make("write-notes", {
    input: Name,
    output: Name,
    execute: ({ name }) =>
      Effect.gen(function*() {
        const context = yield* JobContext.JobContext
        yield* Effect.orDie(context.setData("owner", Schema.String, name))
        yield* Effect.orDie(context.setData("sizes", Schema.Array(Schema.Int), [1, 2, 3]))
        return { name }
      })
  })
])

const viewsSuite = <E>(name: string, store: Layer.Layer<DeploymentStore.DeploymentStore, E>) => {
  const application = `views-${crypto.randomUUID().slice(0, 8)}`
  const TestLayer = serveOperator().pipe(
    Layer.provideMerge(Layer.effectDiscard(Effect.gen(function*() {
      yield* registerAll(application)
      yield* (yield* Actions.Actions).register(Note, { application })
    }))),
    Layer.provideMerge(Actions.layer({ recovery: { enabled: false } })),
    Layer.provideMerge(faultyStore(store))
  )

  layer(TestLayer, { excludeTestServices: true, timeout: "60 seconds" })(`operator HTTP API views (${name})`, (it) => {
    it.effect("counts the deployments in each status, of an application and an action", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        yield* actions.execute(Provision, { name: "c1" }, { application })
        yield* actions.execute(Provision, { name: "c2" }, { application })
        yield* Effect.exit(actions.execute(Explode, { name: "c3" }, { application }))
        const all = yield* call("GET", `/ops/counts?application=${application}`)
        assert.strictEqual(all.status, 200, all.text)
        const body = record(all.body)
        const counts = record(body.counts)
        assert.strictEqual(body.atMost, 10000)
        assert.deepStrictEqual(Object.keys(counts).sort(), [
          "paused", "rollback_failed", "rolled_back", "rolling_back", "running", "succeeded"
        ])
        assert.isAtLeast(counts.succeeded as number, 2)
        assert.isAtLeast(counts.rolled_back as number, 1)
        const one = yield* call("GET", `/ops/counts?application=${application}&action=explode`)
        assert.strictEqual(record(record(one.body).counts).succeeded, 0)
        const none = yield* call("GET", `/ops/counts?application=nobody-${application}`)
        assert.deepStrictEqual(Object.values(record(record(none.body).counts)), [0, 0, 0, 0, 0, 0])
      }))

    it.effect("reads a deployment's job data by job then key, and 404s an unknown deployment", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Note, { name: "ada" }, { application })
        const got = yield* call("GET", `/ops/deployments/${deploymentId}/data`)
        assert.strictEqual(got.status, 200, got.text)
        assert.deepStrictEqual(got.body, {
          deploymentId,
          items: [
            { job: "write-notes", key: "owner", value: "ada" },
            { job: "write-notes", key: "sizes", value: [1, 2, 3] }
          ]
        })
        const empty = yield* call("GET", `/ops/deployments/${(yield* actions.execute(Provision, { name: "d" }, { application })).deploymentId}/data`)
        assert.deepStrictEqual(record(empty.body).items, [])
        const missing = yield* call("GET", `/ops/deployments/${crypto.randomUUID()}/data`)
        assert.strictEqual(missing.status, 404, missing.text)
        assert.strictEqual(record(missing.body)._tag, "DeploymentNotFound")
      }))

    it.effect("lists by key and by creation time, and refuses a time that does not parse", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const before = DateTime.formatIso(yield* DateTime.now)
        yield* Effect.sleep("5 millis")
        const { deploymentId } = yield* actions.execute(Provision, { name: "k" }, { application, key: `key-${application}` })
        const byKey = yield* call("GET", `/ops/deployments?application=${application}&key=key-${application}`)
        assert.strictEqual(byKey.status, 200, byKey.text)
        assert.deepStrictEqual((record(byKey.body).items as Array<Record<string, unknown>>).map((d) => d.id), [deploymentId])
        const after = yield* call("GET", `/ops/deployments?application=${application}&createdAfter=${before}`)
        const afterIds = (record(after.body).items as Array<Record<string, unknown>>).map((d) => d.id)
        assert.include(afterIds, deploymentId)
        const earlier = yield* call("GET", `/ops/deployments?application=${application}&createdBefore=${before}`)
        assert.notInclude((record(earlier.body).items as Array<Record<string, unknown>>).map((d) => d.id), deploymentId)
        const bad = yield* call("GET", `/ops/deployments?createdAfter=yesterday`)
        assert.strictEqual(bad.status, 400, bad.text)
        assert.deepStrictEqual([record(bad.body)._tag, record(bad.body).argument], ["InvalidArgument", "query.createdAfter"])
      }))

    it.effect("gives each job's rollback start and finish times", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        yield* Effect.exit(actions.execute(Teardown, { n: 1 }, { application }))
        const page = yield* actions.list({ application, action: "teardown", limit: 1 })
        const got = yield* call("GET", `/ops/deployments/${page.items[0]!.id}`)
        const jobs = record(got.body).jobs as Array<Record<string, unknown>>
        assert.deepStrictEqual(jobs.map((job) => job.status), ["rollback_failed", "rolled_back"])
        assert.isTrue(isIsoTimestamp(jobs[0]!.rollbackStartedAt) && isIsoTimestamp(jobs[0]!.rollbackFinishedAt), JSON.stringify(jobs[0]))
        assert.isFalse("rollbackStartedAt" in jobs[1]!, "the failed job has no rollback to run")
      }))
  })
}

describe("OperatorHttp views", () => {
  viewsSuite("memory store", DeploymentStore.layerMemory)
  viewsSuite("PostgreSQL", storeLayer(uniquePrefix()).pipe(Layer.provide(PgLive)))
})
