/**
 * PostgreSQL for the tests: the connection (`DATABASE_URL`, else the local server), a unique table prefix per
 * test file, a store layer that migrates its tables first and drops them afterwards, and a client that counts the
 * round trips it makes.
 *
 * An unreachable server fails the tests with a message saying so: they never skip.
 */
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import * as Net from "node:net"
import { DeploymentStore, type DeploymentStoreShape } from "../../src/DeploymentStore.ts"
import * as SqlDeploymentStore from "../../src/SqlDeploymentStore.ts"

/** The server the tests use. */
export const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const shownUrl = (() => {
  const url = new URL(databaseUrl)
  if (url.password !== "") url.password = "***"
  return url.toString()
})()

/** A table prefix no other test file uses: `ea_t_<random>_`. */
export const uniquePrefix = (): string => `ea_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}_`

/** Fails loudly, with what to do, when the server cannot be reached. */
const probe = Layer.effectDiscard(
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
    Effect.catch((error) =>
      Effect.die(
        new Error(
          `PostgreSQL is not reachable at ${shownUrl} (${error.message}). These tests need a real server: ` +
            "start one (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set " +
            "DATABASE_URL. They never skip."
        )
      )
    )
  )
)

/** A pooled client to the test server, checked reachable when built. */
export const PgLive: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient> = Layer.provideMerge(
  probe,
  PgClient.layer({ url: Redacted.make(databaseUrl), connectTimeout: "5 seconds" }).pipe(Layer.orDie)
)

/** Drops the tables of a prefix (the store's and its migrations table). */
export const dropTables = (prefix: string): Effect.Effect<void, never, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`DROP TABLE IF EXISTS ${sql(`${prefix}history`)}, ${sql(`${prefix}errors`)}, ${sql(`${prefix}job_data`)},
      ${sql(`${prefix}job_runs`)}, ${sql(`${prefix}deployments`)}, ${sql(`${prefix}migrations`)}`).pipe(Effect.orDie, Effect.asVoid)

/** The SQL store on its own tables: migrated when built, dropped when released. */
export const storeLayer = (
  prefix: string,
  options: Omit<SqlDeploymentStore.Options, "prefix"> = {}
): Layer.Layer<DeploymentStore, never, SqlClient.SqlClient> =>
  SqlDeploymentStore.layer({ ...options, prefix }).pipe(
    Layer.orDie,
    Layer.provide(SqlDeploymentStore.layerMigrations({ prefix }).pipe(Layer.orDie)),
    Layer.merge(Layer.effectDiscard(Effect.addFinalizer(() => dropTables(prefix))))
  )

/** A store on fresh tables of its own (migrated), dropped when the scope closes. */
export const freshStore = (
  options: Omit<SqlDeploymentStore.Options, "prefix"> = {}
): Effect.Effect<
  { readonly prefix: string; readonly store: DeploymentStoreShape },
  never,
  SqlClient.SqlClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const prefix = uniquePrefix()
    const context = yield* Layer.build(storeLayer(prefix, options))
    return { prefix, store: Context.get(context, DeploymentStore) }
  })

/** What the server answered, one entry per completed round trip: its transaction status after it. */
export interface RoundTrips {
  /** `I` idle (no transaction open), `T` in a transaction block, `E` in a failed transaction block. */
  readonly statuses: Array<string>
}

const socketOptions = (url: string): Net.NetConnectOpts => {
  const parsed = new URL(url)
  const port = parsed.port === "" ? 5432 : Number(parsed.port)
  const host = parsed.searchParams.get("host") ??
    (parsed.hostname === "" ? "127.0.0.1" : decodeURIComponent(parsed.hostname))
  return host.startsWith("/") ? { path: `${host}/.s.PGSQL.${port}` } : { host, port }
}

/**
 * A socket factory for `PgClient`'s `stream` option whose sockets call `onReady` with the transaction status of
 * every `ReadyForQuery` message of the server: one per completed round trip (also used by the benchmarks).
 */
export const readyForQuerySocket = (url: string, onReady: (status: string) => void) => () => {
  const socket = Net.connect(socketOptions(url))
  let pending: Buffer = Buffer.alloc(0)
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    // server messages: a type byte, then a big-endian int32 length that counts itself
    while (pending.length >= 5) {
      const length = pending.readInt32BE(1)
      if (pending.length < 1 + length) break
      if (pending[0] === 0x5a) onReady(String.fromCharCode(pending[5]!))
      pending = pending.subarray(1 + length)
    }
  })
  return socket
}

/**
 * A client (one connection unless told otherwise) whose sockets report every `ReadyForQuery` message of the server:
 * one per completed round trip, with the transaction status after it.
 */
export const countingClient = (
  roundTrips: RoundTrips,
  maxConnections = 1
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, never> =>
  PgClient.layer({
    url: Redacted.make(databaseUrl),
    connectTimeout: "5 seconds",
    maxConnections,
    stream: readyForQuerySocket(databaseUrl, (status) => void roundTrips.statuses.push(status))
  }).pipe(Layer.orDie)
