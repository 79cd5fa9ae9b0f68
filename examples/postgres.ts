/**
 * effect-actions on PostgreSQL: one deployment that succeeds, one that fails and rolls back, then the rows the
 * store wrote, as tables. Run it with `npm run example:pg` (uses `DATABASE_URL`, else
 * `postgres://postgres@127.0.0.1:5432/test`). Its tables use the prefix `example_actions_`; it drops them at the end.
 */
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Option, Redacted, References, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { Action, Actions, Job, JobContext, SqlDeploymentStore } from "effect-actions"

const prefix = "example_actions_"

// --- the action: reserve an IP, create a machine, attach the IP ---------------------------------------------

class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", { region: Schema.String }) {}

const Request = Schema.Struct({ name: Schema.String, region: Schema.String })
const WithIp = Schema.Struct({ name: Schema.String, region: Schema.String, ip: Schema.String })
const WithMachine = Schema.Struct({ name: Schema.String, region: Schema.String, ip: Schema.String, machineId: Schema.String })

const reserveIp = Job.make("reserve-ip", {
  input: Request,
  output: WithIp,
  execute: ({ name, region }) => Effect.succeed({ name, region, ip: `10.0.0.${name.length}` }),
  rollback: ({ output }) => Effect.log(`release ${Option.match(output, { onNone: () => "nothing", onSome: (o) => o.ip })}`)
})

const createMachine = Job.make("create-machine", {
  input: WithIp,
  output: WithMachine,
  error: QuotaExceeded,
  execute: ({ ip, name, region }) =>
    Effect.gen(function*() {
      // What a rollback needs to find the machine again, saved before the call that creates it.
      const context = yield* JobContext.JobContext
      yield* context.setData("request-token", Schema.String, context.idempotencyKey)
      if (region === "full-region") return yield* new QuotaExceeded({ region })
      return { name, region, ip, machineId: `m-${name}` }
    }),
  rollback: ({ output }) =>
    Effect.gen(function*() {
      const context = yield* JobContext.JobContext
      const token = yield* context.getData("request-token", Schema.String)
      yield* Effect.log(`delete machine ${Option.match(output, { onNone: () => `created with token ${Option.getOrElse(token, () => "-")}, if any`, onSome: (o) => o.machineId })}`)
    })
})

const attachIp = Job.make("attach-ip", {
  input: WithMachine,
  output: WithMachine,
  execute: (machine) => Effect.succeed(machine)
})

const Provision = Action.make("provision-machine", [reserveIp, createMachine, attachIp])

// --- the program ------------------------------------------------------------------------------------------

const printTable = (title: string, rows: ReadonlyArray<Record<string, unknown>>) =>
  Effect.sync(() => {
    console.log(`\n${title}`)
    console.table(rows)
  })

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  const sql = yield* SqlClient.SqlClient
  yield* actions.register(Provision, { application: "example" })

  const ok = yield* actions.execute(Provision, { name: "web", region: "eu-west" })
  console.log(`deployment ${ok.deploymentId} succeeded: ${JSON.stringify(ok.output)}`)
  const failed = yield* Effect.flip(actions.execute(Provision, { name: "db", region: "full-region" }))
  console.log(`deployment failed: ${failed.message}`)

  yield* printTable(
    `${prefix}deployments`,
    yield* sql`SELECT left(id::text, 8) AS id, action, status, current_job, output::text AS output,
        failure->>'tag' AS failure, owner, lease_epoch::int AS lease_epoch
      FROM ${sql(`${prefix}deployments`)} ORDER BY created_at`
  )
  yield* printTable(
    `${prefix}job_runs`,
    yield* sql`SELECT left(deployment_id::text, 8) AS deployment, index, name, status, attempts,
        input::text AS input, output::text AS output
      FROM ${sql(`${prefix}job_runs`)} ORDER BY deployment_id, index`
  )
  yield* printTable(
    `${prefix}job_data`,
    yield* sql`SELECT left(deployment_id::text, 8) AS deployment, job, key, value::text AS value FROM ${sql(`${prefix}job_data`)}`
  )
  yield* printTable(
    `${prefix}errors`,
    yield* sql`SELECT sequence::int AS sequence, left(deployment_id::text, 8) AS deployment, job, phase, tag, message
      FROM ${sql(`${prefix}errors`)} ORDER BY sequence`
  )
})

// --- the layers: about ten lines to put effect-actions on your database ---------------------------------

const PgLive = PgClient.layerConfig({
  url: Config.Redacted("DATABASE_URL").pipe(Config.withDefault(Redacted.make("postgres://postgres@127.0.0.1:5432/test")))
})
const StoreLive = SqlDeploymentStore.layer({ prefix }).pipe(
  Layer.provide(SqlDeploymentStore.layerMigrations({ prefix }))
)
const ActionsLive = Actions.layer().pipe(Layer.provideMerge(StoreLive), Layer.provideMerge(PgLive))

const dropTables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const table of ["history", "errors", "job_data", "job_runs", "deployments", "migrations"]) {
    yield* sql`DROP TABLE IF EXISTS ${sql(`${prefix}${table}`)} CASCADE`
  }
})

Effect.scoped(Effect.andThen(Effect.addFinalizer(() => Effect.ignore(dropTables)), program)).pipe(
  Effect.provide(ActionsLive),
  Effect.provideService(References.MinimumLogLevel, "Info"),
  Effect.runPromise
).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
