/**
 * The commands of the `effect-actions` CLI, built with `effect/cli`: `list`, `show`, `errors`, the operations
 * (`stop`, `retry`, `rollback`, `retry-rollback`, `restart`: `operations.ts`), `prune`, `migrate`, `serve`. Every
 * command reads its connection from the root's shared flags (`--database-url`, or `DATABASE_URL`, and `--prefix`)
 * and prints a human table, or with `--json` one JSON document encoded with the `OperatorApi` view Schemas. See
 * `docs/cli.md`.
 *
 * @internal
 */
import { Console, Effect, Layer, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { SqlClient } from "effect/sql"
import { DeploymentStatus } from "../../Deployment.ts"
import * as SqlDeploymentStore from "../../SqlDeploymentStore.ts"
import * as OperatorApi from "../../OperatorApi.ts"
import { durationSyntax, parseDurationMillis } from "../durationText.ts"
import { actions as actionsFor, checkPrefix, client } from "./connection.ts"
import { context, idArgument, invalid, printJson, root, withActions } from "./context.ts"
import { operationCommands } from "./operations.ts"
import { deploymentDetail, deploymentTable, errorTable } from "./render.ts"

const statuses = DeploymentStatus.literals

const list = Command.make("list", {
  status: Flag.Literals("status", statuses).pipe(
    Flag.withDescription("Only deployments in this status (repeat the flag for several)"),
    Flag.atLeast(0)
  ),
  application: Flag.String("application").pipe(Flag.withDescription("Only this application's"), Flag.optional),
  action: Flag.String("action").pipe(Flag.withDescription("Only this action's"), Flag.optional),
  limit: Flag.Int("limit").pipe(Flag.withDescription("Page size, 1 to 1000"), Flag.withDefault(50)),
  cursor: Flag.String("cursor").pipe(Flag.withDescription("The next-page cursor a previous list printed"), Flag.optional)
}, (options) =>
  Effect.gen(function*() {
    const { flags, print, style } = yield* context
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 1000) {
      return yield* invalid("list", "--limit", `expected an integer from 1 to 1000, got ${options.limit}`)
    }
    const page = yield* withActions((actions) =>
      actions.list({
        ...(options.status.length === 0 ? {} : { statuses: options.status }),
        ...Option.match(options.application, { onNone: () => ({}), onSome: (application) => ({ application }) }),
        ...Option.match(options.action, { onNone: () => ({}), onSome: (action) => ({ action }) }),
        limit: options.limit,
        ...Option.match(options.cursor, { onNone: () => ({}), onSome: (cursor) => ({ cursor }) })
      })
    )
    if (flags.json) return yield* printJson(OperatorApi.DeploymentPageView, page)
    yield* print(page.items.length === 0 ? style.dim("(no deployments)") : deploymentTable(style, page.items))
    for (const row of page.unreadable) yield* Console.error(`unreadable: ${row.message}`)
    if (Option.isSome(page.next)) yield* print(style.dim(`next page: --cursor '${page.next.value}'`))
  })).pipe(
    Command.withDescription("List deployments, newest first"),
    Command.withExamples([
      { command: "effect-actions list --status rollback_failed", description: "Deployments whose rollback failed" },
      { command: "effect-actions list --application shop --action deploy-app --limit 10", description: "One action's latest" }
    ])
  )

const ShowView = Schema.Struct({
  deployment: OperatorApi.DeploymentView,
  errors: Schema.Array(OperatorApi.ErrorEntryView)
})

const show = Command.make("show", { id: idArgument }, ({ id }) =>
  Effect.gen(function*() {
    const { flags, print, style } = yield* context
    const [deployment, errors] = yield* withActions((actions) =>
      Effect.all([actions.get(id), actions.errors(id)])
    )
    if (flags.json) return yield* printJson(ShowView, { deployment, errors })
    yield* print(deploymentDetail(style, deployment, errors))
  })).pipe(
    Command.withDescription(
      "Show a deployment: its record and pending request, every job with its input and output, its error log, its history of operations"
    )
  )

const errors = Command.make("errors", {
  id: idArgument,
  job: Flag.String("job").pipe(Flag.withDescription("Only this job's entries"), Flag.optional)
}, ({ id, job }) =>
  Effect.gen(function*() {
    const { flags, print, style } = yield* context
    const items = yield* withActions((actions) =>
      actions.errors(id, Option.match(job, { onNone: () => ({}), onSome: (name) => ({ job: name }) }))
    )
    if (flags.json) return yield* printJson(OperatorApi.ErrorLogView, { deploymentId: id, items })
    yield* print(items.length === 0 ? style.dim("(no errors)") : errorTable(style, items))
  })).pipe(Command.withDescription("Show a deployment's error log"))

const prune = Command.make("prune", {
  olderThan: Flag.String("older-than").pipe(
    Flag.withDescription("Delete finished deployments last updated longer ago than this (30d, 12h, 15m, ...)")
  )
}, ({ olderThan }) =>
  Effect.gen(function*() {
    const { flags, print } = yield* context
    const millis = parseDurationMillis(olderThan)
    if (Option.isNone(millis)) {
      return yield* invalid("prune", "--older-than", `expected ${durationSyntax}, got ${JSON.stringify(olderThan)}`)
    }
    const pruned = yield* withActions((actions) => actions.prune({ olderThan: millis.value }))
    if (flags.json) return yield* printJson(OperatorApi.Pruned, { pruned })
    yield* print(`pruned ${pruned} finished deployment${pruned === 1 ? "" : "s"} last updated more than ${olderThan} ago`)
  })).pipe(Command.withDescription("Delete finished deployments older than a given age"))

const MigrateView = Schema.Struct({
  applied: Schema.Array(Schema.Struct({ id: Schema.Int, name: Schema.String })),
  current: Schema.Array(Schema.Struct({ id: Schema.Int, name: Schema.String }))
})

const migrate = Command.make("migrate", {}, () =>
  Effect.gen(function*() {
    const { flags, print, target } = yield* context
    const prefix = yield* checkPrefix(target.prefix)
    const recorded = Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = `${prefix}migrations`
      const exists = yield* sql<{ readonly found: boolean }>`SELECT to_regclass(${table}) IS NOT NULL AS found`
      if (exists[0]?.found !== true) return []
      const rows = yield* sql<{ readonly migration_id: number; readonly name: string }>`
        SELECT migration_id, name FROM ${sql(table)} ORDER BY migration_id`.withoutTransform
      return rows.map((row) => ({ id: Number(row.migration_id), name: row.name }))
    })
    const [before, after] = yield* Effect.gen(function*() {
      const before = yield* recorded
      yield* Layer.build(SqlDeploymentStore.layerMigrations({ prefix }))
      return [before, yield* recorded] as const
    }).pipe(Effect.scoped, Effect.provide(client(target)))
    const applied = after.filter((m) => !before.some((b) => b.id === m.id))
    if (flags.json) return yield* printJson(MigrateView, { applied, current: after })
    yield* print(
      applied.length === 0
        ? `the store's tables (prefix ${prefix}) are up to date: ${after.map((m) => `${m.id} ${m.name}`).join(", ")}`
        : `applied ${applied.map((m) => `${m.id} ${m.name}`).join(", ")} (prefix ${prefix})`
    )
  })).pipe(Command.withDescription("Create or upgrade the store's tables (forward-only migrations)"))

const serve = Command.make("serve", {
  port: Flag.Int("port").pipe(Flag.withDescription("Port on 127.0.0.1 (0 for any free port)"), Flag.withDefault(8080))
}, ({ port }) =>
  Effect.gen(function*() {
    const { flags, print, target } = yield* context
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return yield* invalid("serve", "--port", `expected a port from 0 to 65535, got ${port}`)
    }
    // Loaded here only: the HTTP server's modules would slow every other command's start.
    const { serveOperatorApi } = yield* Effect.promise(() => import("./serve.ts"))
    yield* serveOperatorApi({ port, json: flags.json, print, actions: actionsFor(target) })
  })).pipe(Command.withDescription(
    "Serve the dashboard and the operator HTTP API on 127.0.0.1 (no authentication: loopback only)"
  ))

/** The CLI: the root command with its subcommands. */
export const cli = root.pipe(
  Command.withSubcommands([list, show, errors, ...operationCommands, prune, migrate, serve])
)
