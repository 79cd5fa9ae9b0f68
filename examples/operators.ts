/**
 * A worker for operators to drive: it registers `deploy-app` (failure policy `pause`) on PostgreSQL, starts one
 * deployment that asks for more replicas than the region's quota allows, so that it pauses, and keeps running with
 * recovery on, so that operations requested from the CLI (`effect-actions retry <id> --input ... --wait`) are carried
 * out within a second. Run it with `npm run example:operators` (uses `DATABASE_URL`, else
 * `postgres://postgres@127.0.0.1:5432/test`; tables with the prefix `example_operators_`); stop it with Ctrl-C.
 *
 * In another terminal:
 *
 * ```sh
 * npx effect-actions list --status paused --prefix example_operators_
 * npx effect-actions retry <id> --prefix example_operators_ --input '{"name":"web","region":"eu-west","replicas":4}' --wait
 * ```
 */
import { NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Redacted, Schema } from "effect"
import { Action, Actions, Job, SqlDeploymentStore } from "effect-actions"

const prefix = "example_operators_"
const quota = 4

class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  region: Schema.String,
  requested: Schema.Number
}) {
  override get message(): string {
    return `quota exceeded in ${this.region}: ${this.requested} replicas requested, ${quota} allowed`
  }
}

const Request = Schema.Struct({ name: Schema.String, region: Schema.String, replicas: Schema.Int })
const Machines = Schema.Struct({ name: Schema.String, machines: Schema.Array(Schema.String) })

const reserveCapacity = Job.make("reserve-capacity", {
  input: Request,
  output: Request,
  execute: (request) => Effect.as(Effect.log(`reserve capacity for ${request.name} in ${request.region}`), request),
  rollback: ({ input }) => Effect.log(`release the capacity of ${input.name}`)
})

const createMachines = Job.make("create-machines", {
  input: Request,
  output: Machines,
  error: QuotaExceeded,
  execute: ({ name, region, replicas }) =>
    replicas > quota
      ? Effect.fail(new QuotaExceeded({ region, requested: replicas }))
      : Effect.succeed({ name, machines: Array.from({ length: replicas }, (_, index) => `${name}-${index + 1}`) }),
  rollback: ({ output }) => Effect.log(`delete machines: ${output._tag === "Some" ? output.value.machines.join(", ") : "none"}`)
})

const DeployApp = Action.make("deploy-app", [reserveCapacity, createMachines], { onFailure: "pause" })

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  yield* actions.register(DeployApp, { application: "shop" })
  // The key makes a second run of the worker find the same deployment instead of starting another one.
  const id = yield* actions.start(DeployApp, { name: "web", region: "eu-west", replicas: 6 }, {
    application: "shop",
    key: "web-eu-west"
  })
  yield* Effect.log(`started deployment ${id}; it pauses on the quota. Retry it from the CLI; Ctrl-C to stop.`)
  return yield* Effect.never
})

const Database = PgClient.layerConfig({
  url: Config.Redacted("DATABASE_URL").pipe(Config.withDefault(Redacted.make("postgres://postgres@127.0.0.1:5432/test")))
})

const Runtime = Actions.layer({
  owner: "worker-1",
  recovery: { pollInterval: "1 second" }
}).pipe(
  Layer.provide(SqlDeploymentStore.layer({ prefix })),
  Layer.provide(SqlDeploymentStore.layerMigrations({ prefix })),
  Layer.provide(Database)
)

NodeRuntime.runMain(program.pipe(Effect.provide(Runtime)))
