/**
 * What every command of the CLI shares: the root command with its shared flags (`--database-url`, `--prefix`,
 * `--json`), the output style, `Actions` over the target, JSON printing with the `OperatorApi` Schemas, and the
 * usage error of a bad argument.
 *
 * @internal
 */
import { Config, Console, Effect, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Actions } from "../../Actions.ts"
import { InvalidArgument } from "../../ActionError.ts"
import { actions as actionsFor } from "./connection.ts"
import { type Style, styleFor } from "./render.ts"

/** The flags every command shares. */
export const root = Command.make("effect-actions").pipe(
  Command.withSharedFlags({
    databaseUrl: Flag.Redacted("database-url").pipe(
      Flag.withDescription("PostgreSQL URL (postgres://user@host:port/database); DATABASE_URL when left out"),
      Flag.withFallbackConfig(Config.Redacted("DATABASE_URL")),
      Flag.optional
    ),
    prefix: Flag.String("prefix").pipe(
      Flag.withDescription("Table prefix of the store"),
      Flag.withDefault("effect_actions_")
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print one JSON document (see docs/cli.md) instead of tables"),
      Flag.withDefault(false)
    )
  }),
  Command.withDescription(
    "Operate effect-actions deployments: find, inspect, stop, retry, roll back and restart them (one or in bulk), " +
      "prune them, migrate the store, serve the dashboard and the operator HTTP API"
  )
)

const out = (style: Style) => ({ style, print: (text: string) => Console.log(text) })

/** The root's flags, the output style, and the target to connect to. */
export const context = Effect.gen(function*() {
  const flags = yield* root
  const style = styleFor(process.stdout.isTTY === true, process.env)
  return { flags, ...out(style), target: { databaseUrl: flags.databaseUrl, prefix: flags.prefix } }
})

/** Prints a value as JSON, encoded with its Schema. */
export const printJson = (schema: Schema.Encoder<unknown>, value: unknown) =>
  Effect.flatMap(Schema.encodeUnknownEffect(schema)(value), (encoded) => Console.log(JSON.stringify(encoded, null, 2)))

/** Runs `effect` with `Actions` over the target (no action registered, no recovery). */
export const withActions = <A, E, R>(effect: (actions: Actions["Service"]) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const { target } = yield* context
    return yield* Effect.flatMap(Actions, effect).pipe(Effect.provide(actionsFor(target)))
  })

/** A usage error: an argument or flag with a value the command cannot use. */
export const invalid = (operation: string, argument: string, issue: string) =>
  new InvalidArgument({ operation, argument, issue })

/** The `<id>` argument of the commands on one deployment. */
export const idArgument = Argument.String("id").pipe(Argument.withDescription("The deployment's id"))
