/**
 * How the CLI reaches the deployments: a PostgreSQL connection, the SQL store on it (without the stop listener:
 * this process runs nothing), and an `Actions` runtime that never runs recovery, so it never claims a deployment.
 *
 * @internal
 */
import type { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import * as Actions from "../../Actions.ts"
import { InvalidArgument, type InvalidOption, PersistenceError } from "../../ActionError.ts"
import { DeploymentStore } from "../../DeploymentStore.ts"
import * as SqlDeploymentStore from "../../SqlDeploymentStore.ts"

/** Where the deployments are. */
export interface Target {
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly prefix: string
}

/** The CLI's own usage error: no database to connect to. */
export class MissingDatabase extends Schema.TaggedError<MissingDatabase>()("MissingDatabase", {}) {
  override get message(): string {
    return "no database: pass --database-url or set DATABASE_URL"
  }
}

/**
 * The CLI's own usage error: the PostgreSQL driver, an optional peer dependency of the package, is not installed
 * (`detail` undefined), or it is but did not load (`detail`: why, e.g. a module of its own missing). The driver is
 * loaded when a command connects, so that `--help`, `--version` and usage errors work without it.
 */
export class MissingDriver extends Schema.TaggedError<MissingDriver>()("MissingDriver", {
  detail: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return this.detail === undefined
      ? "the CLI connects through @effect/sql-pg, which is not installed: npm install @effect/sql-pg"
      : `the CLI connects through @effect/sql-pg, which did not load: ${this.detail}`
  }
}

/** Whether a failed import is that of `@effect/sql-pg` itself not being found (not one of its own imports). */
export const isDriverNotFound = (error: unknown): boolean =>
  error instanceof Error && "code" in error && error.code === "ERR_MODULE_NOT_FOUND" &&
  /['"]@effect\/sql-pg['"]/.test(error.message)

const prefixPattern = /^[a-z_][a-z0-9_]*$/
const maxPrefixLength = 39

/** The table prefix, checked before anything connects. */
export const checkPrefix = (prefix: string): Effect.Effect<string, InvalidArgument> =>
  prefixPattern.test(prefix) && prefix.length <= maxPrefixLength
    ? Effect.succeed(prefix)
    : Effect.fail(
      new InvalidArgument({
        operation: "connect",
        argument: "--prefix",
        issue: `expected lowercase letters, digits and underscores, not starting with a digit, at most ${maxPrefixLength} characters; got ${JSON.stringify(prefix)}`
      })
    )

/** The PostgreSQL client of a target; a server that cannot be reached fails it with `SqlError`. */
export const client = (
  target: Target
): Layer.Layer<
  PgClient.PgClient | SqlClient.SqlClient,
  MissingDatabase | MissingDriver | PersistenceError | SqlError.SqlError
> =>
  Layer.unwrap(Effect.gen(function*() {
    if (Option.isNone(target.databaseUrl)) return yield* new MissingDatabase()
    const url = target.databaseUrl.value
    // A URL the driver cannot parse is reported, not thrown.
    if (!URL.canParse(Redacted.value(url))) {
      return yield* new PersistenceError({
        reason: "connection",
        operation: "connect",
        detail: "the database URL is not a URL (postgres://user@host:port/database)"
      })
    }
    const { PgClient } = yield* Effect.tryPromise({
      try: () => import("@effect/sql-pg"),
      catch: (error) =>
        new MissingDriver(isDriverNotFound(error) ? {} : { detail: error instanceof Error ? error.message : String(error) })
    })
    return PgClient.layer({
      url,
      connectTimeout: "5 seconds",
      applicationName: "effect-actions-cli",
      maxConnections: 2
    })
  }))

/** The SQL store of a target without its stop listener: the CLI runs no deployment, so it has nothing to stop. */
const operatorStore = (prefix: string): Layer.Layer<DeploymentStore, InvalidOption, SqlClient.SqlClient> =>
  Layer.effect(
    DeploymentStore,
    Effect.map(DeploymentStore, (store) => {
      const { stopRequests, ...withoutListener } = store
      void stopRequests
      return withoutListener
    })
  ).pipe(Layer.provide(SqlDeploymentStore.layer({ prefix })))

/**
 * `Actions` over a target, for operators: recovery is off (this process claims nothing and resumes nothing), and
 * no action is registered, so it runs nothing.
 */
export const actions = (target: Target) =>
  Layer.unwrap(Effect.map(checkPrefix(target.prefix), (prefix) =>
    Actions.layer({ owner: `effect-actions-cli-${crypto.randomUUID()}`, recovery: { enabled: false } }).pipe(
      Layer.provide(operatorStore(prefix)),
      Layer.provide(client(target))
    )))
