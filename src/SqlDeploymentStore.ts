/**
 * The `DeploymentStore` contract over `effect/sql`'s `SqlClient`, on PostgreSQL (`@effect/sql-pg`).
 *
 * **Guarantees** (on top of the contract's, checked by `DeploymentStoreSuite`):
 * - every operation is one SQL statement, so one round trip and one implicit transaction (`create`, `requestStop`,
 *   `takeOver` and `requestOperation` take a second one only after losing a race, see `make`); `checkpoint` is a
 *   data-modifying `WITH` statement whose deployment update is fenced in its `WHERE` (`id`, `owner`, `lease_epoch`)
 *   and whose job updates and error inserts only apply when that update matched, so a fenced-out writer changes
 *   nothing and gets `LeaseLost`; checkpoints of different deployments that arrive while others are being written
 *   share one such statement (`checkpointBatch`), each fenced by its own lease and answered on its own; `appendErrors` and `setJobData` are fenced the same way (with a `FOR SHARE` lock
 *   on the row);
 * - `claim` uses `FOR UPDATE SKIP LOCKED`, so concurrent claimers never take the same deployment;
 * - `takeOver` is a compare-and-set in the `WHERE` of its update (status, lease epoch, not parked, pending request),
 *   with its job updates, error and history inserts in the same statement: of concurrent takeovers of one
 *   deployment, exactly one applies; `requestStop`, `requestOperation` and `recordOperation` append their history
 *   entry in the statement that makes their change, and only when it applies;
 * - leases are set and judged on the database server's clock (`statement_timestamp()` in the statements): the
 *   `now` and `at` values the runtime gives for leases are ignored, so processes whose clocks differ never take a
 *   live lease from each other; the other timestamps (created, updated, job and error times) are the runtime's;
 * - every statement is bounded: it gets an answer within `statementTimeout`, or is cancelled on the server and
 *   fails with reason `timeout`; a wait for a row lock ends after `lockTimeout` (see `Options`);
 * - `SqlError` never leaves this module: it becomes `PersistenceError` with a `reason` (`connection`,
 *   `conflict`, `timeout`, `invalid`, `unknown`) and the `SqlError` as its cause; a row that does not have the
 *   expected shape is a `PersistenceError` too, never a defect; `list` reports such a row in `unreadable` and
 *   returns the rest of the page;
 * - JSON values are stored as `jsonb` (the JSON value `null` as `'null'`, an absent value as SQL `NULL`) and read
 *   back as equal values; timestamps are `timestamptz`, converted from and to epoch milliseconds exactly (a
 *   timestamp with microseconds, written by hand, reads as its whole milliseconds); a value PostgreSQL cannot hold
 *   exactly (`\u0000`, an unpaired surrogate) is refused with reason `invalid`, never altered;
 * - `transaction` runs transactional jobs and their checkpoints in one transaction of the same client;
 * - when the `SqlClient` comes from `@effect/sql-pg`'s `PgClient`, stop requests are also announced with
 *   `pg_notify` (in the same statement that records them) and delivered by `stopRequests` through `LISTEN` on a
 *   connection of its own, opened with the client's configuration: it never takes a connection from the pool.
 *
 * Tables (prefix `effect_actions_` unless configured): `deployments` (each row holds its job records, `jobs`),
 * `job_data`, `errors`, `history`, and the migrations history `migrations`. Run `layerMigrations` (forward-only,
 * numbered migrations) before using the store; `layer` itself runs no DDL, so it works with a connection that may
 * only read and write rows.
 * See `docs/postgresql.md`.
 *
 * @since 0.1.0
 */
import type { PgClientConfig } from "@effect/sql-pg/PgClient"
import { Context, type Duration, Effect, Layer, Option, type Queue, type Scope, Stream } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { type InvalidOption, PersistenceError } from "./ActionError.ts"
import { DeploymentStore, type DeploymentStoreShape, type ListPage, type ListQuery } from "./DeploymentStore.ts"
import { makeCheckpoints } from "./internal/sqlCheckpoints.ts"
import { makeColumns } from "./internal/sqlColumns.ts"
import { makeCreate } from "./internal/sqlCreate.ts"
import { makeJobWrites } from "./internal/sqlJobWrites.ts"
import { makeDeletes } from "./internal/sqlDeletes.ts"
import { makeLeases } from "./internal/sqlLeases.ts"
import { makeReads } from "./internal/sqlReads.ts"
import { makeListPlanner } from "./internal/sqlList.ts"
import { makeOperations } from "./internal/sqlOperations.ts"
import { makeRequests } from "./internal/sqlRequests.ts"
import { resolveOptions, type ResolvedOptions, resolveTables } from "./internal/sqlOptions.ts"
import { decodeListPage } from "./internal/sqlRows.ts"
import { fromMigrationError, fromSqlError, makeRun } from "./internal/sqlRun.ts"
import { loaderFor } from "./internal/sqlTables.ts"
import { makeWrites } from "./internal/sqlWrites.ts"

/**
 * Options of the SQL store. Each is checked when the layer is built: a bad value fails it with `InvalidOption`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Prefix of every table, index and constraint name, and of the migrations table (`${prefix}migrations`).
   * Lowercase letters, digits and underscores, not starting with a digit, 1 to 39 characters. Default
   * `effect_actions_`.
   */
  readonly prefix?: string | undefined
  /**
   * How long a store statement may take, from 1 millisecond to 24 hours; default 30 seconds. Past it, the
   * statement is cancelled on the server (its locks released) and fails with a `PersistenceError` of reason
   * `timeout`, which the runtime treats as transient.
   *
   * @since 0.2.0
   */
  readonly statementTimeout?: Duration.Input | undefined
  /**
   * How long a store statement may wait for a row lock (PostgreSQL's `lock_timeout`, set inside the statement),
   * from 1 millisecond to `statementTimeout`; default 10 seconds (or `statementTimeout`, when shorter). A row
   * locked by a transaction left open elsewhere then fails the write with reason `timeout` instead of stalling it.
   *
   * @since 0.2.0
   */
  readonly lockTimeout?: Duration.Input | undefined
  /**
   * The most checkpoints written in one statement, from 1 to 1000; default 64. Checkpoints of different
   * deployments that arrive while earlier ones are being written go out together, in one statement and one commit
   * (each still fenced by its own lease, each told its own `LeaseLost`); a lone checkpoint goes out at once, alone.
   * 1 writes every checkpoint in a statement of its own.
   *
   * @since 0.4.0
   */
  readonly checkpointBatch?: number | undefined
  /**
   * The most checkpoint statements in flight at once, from 1 to 100; default 2. Each takes a connection of the
   * client's pool while it runs.
   *
   * @since 0.4.0
   */
  readonly checkpointWriters?: number | undefined
}

/**
 * Options of the migrations: the table prefix (the other `Options` are accepted, and checked, too).
 *
 * @since 0.2.0
 * @category models
 */
export type MigrationOptions = Options

/**
 * What this module needs of `@effect/sql-pg`'s `PgClient`, found by its service key, so that it works (without
 * notifications) on any `SqlClient` and does not import the driver unless the driver is in use.
 */
interface PgClientLike {
  readonly config: PgClientConfig
}
const PgClientLike = Context.Service<PgClientLike>("@effect/sql-pg/PgClient")

/**
 * Listens on `channel` on a connection of its own (not one of the pool's), opened with the client's
 * configuration and closed with the scope. The driver module is loaded only here, when a `PgClient` is in use.
 */
const listenOnOwnConnection = (
  config: PgClientConfig,
  channel: string
): Effect.Effect<Queue.Dequeue<{ readonly payload: string }, unknown>, unknown, Scope.Scope> =>
  Effect.flatMap(
    Effect.tryPromise(() => import("@effect/sql-pg/PgConnection")),
    (PgConnection) => Effect.flatMap(PgConnection.make(config), (connection) => connection.listen(channel))
  )

/** A failure of the effect run inside `transaction`, kept apart from the transaction's own `SqlError`s. */
class InnerFailure<E> {
  readonly error: E
  constructor(error: E) {
    this.error = error
  }
}

/**
 * The statement fragments every lease and lock depends on. `lockBound` is a condition that is always true and sets
 * `lock_timeout` for the statement's transaction: evaluated on the first row a statement reads, so before the
 * statement waits for that row's lock (a plain statement parameter or `SET` would cost a round trip of its own).
 * Inside `transaction`, it holds until that transaction ends. `serverNow` is the database server's time of the
 * current statement: the clock of every lease.
 */
const statementBounds = (sql: SqlClient.SqlClient, lockTimeoutMillis: number) => ({
  lockBound: sql.literal(`(SELECT set_config('lock_timeout', '${lockTimeoutMillis}', true)) IS NOT NULL`),
  serverNow: sql.literal("statement_timestamp()"),
  leaseUntil: (ttl: number) => sql`(statement_timestamp() + ${ttl}::float8 * interval '1 millisecond')`
})

/** `list`: every filter reads an index in list order (see `internal/sqlList.ts`, and the EXPLAIN test). */
const makeList = (planList: ReturnType<typeof makeListPlanner>, run: ReturnType<typeof makeRun>) =>
(query: ListQuery): Effect.Effect<ListPage, PersistenceError> => {
  const plan = planList(query)
  switch (plan._tag) {
    case "Invalid":
      return Effect.fail(plan.error)
    case "Empty":
      return Effect.succeed({ items: [] })
    case "Statement":
      return run("list", () => plan.statement, (rows) => decodeListPage(rows, plan.limit))
  }
}

/** `transaction`: the effect in one transaction of the client; its own failures stay its own. */
const transactionOf = (client: SqlClient.SqlClient) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  client.withTransaction(Effect.mapError(effect, (error) => new InnerFailure(error))).pipe(
    Effect.catch((error): Effect.Effect<never, E | PersistenceError> =>
      error instanceof InnerFailure
        ? Effect.fail(error.error as E)
        : Effect.fail(fromSqlError("transaction", error))
    )
  )

/** `stopRequests`: the ids `pg_notify` announces on the stop channel, through `LISTEN` on a connection of its own. */
const stopRequestsOf = (config: Parameters<typeof listenOnOwnConnection>[0], stopChannel: string) =>
  Stream.unwrap(Effect.map(listenOnOwnConnection(config, stopChannel), Stream.fromQueue)).pipe(
    Stream.map((notification) => notification.payload),
    Stream.mapError((cause) =>
      new PersistenceError({
        reason: "connection",
        operation: "stopRequests",
        detail: "the LISTEN connection for stop requests failed",
        cause
      })
    )
  )

const makeWith = Effect.fnUntraced(function*(resolved: ResolvedOptions) {
  const { tables } = resolved
  const client = yield* SqlClient.SqlClient
  const sql = client.withoutTransforms()
  const pg = yield* Effect.serviceOption(PgClientLike)
  const run = makeRun(resolved.statementTimeoutMillis)
  const stopChannel = `${tables.prefix}stops`
  if (!sql.onDialectOrElse({ pg: () => true, orElse: () => false })) {
    return yield* Effect.die(new Error("SqlDeploymentStore supports PostgreSQL only (@effect/sql-pg)"))
  }
  const { lockBound, serverNow, leaseUntil } = statementBounds(sql, resolved.lockTimeoutMillis)
  const columns = makeColumns(sql)
  const planList = makeListPlanner(sql, tables, columns)
  const writes = makeWrites(sql, tables, columns)
  const statementDeps = { sql, tables, run, columns, lockBound, serverNow, leaseUntil }
  const reads = makeReads(statementDeps)
  const leases = makeLeases(statementDeps)
  const deletes = makeDeletes(statementDeps)
  const checkpoint = makeCheckpoints({ ...statementDeps, client, writes, batching: resolved.batching })

  const operations = makeOperations({
    sql,
    tables,
    run,
    columns,
    writes,
    lockBound,
    leaseUntil,
    stopChannel
  })

  const list = makeList(planList, run)

  const store: DeploymentStoreShape = {
    create: makeCreate(statementDeps),

    checkpoint,

    ...makeJobWrites({ ...statementDeps, writes }),

    ...reads,

    list,

    ...operations,
    ...makeRequests({ sql, tables, run, columns, writes, lockBound }),

    ...leases,
    ...deletes,

    transaction: transactionOf(client),

    ...(Option.isSome(pg) ? { stopRequests: stopRequestsOf(pg.value.config, stopChannel) } : {})
  }
  return store
})

/**
 * Builds the store over the `SqlClient` in context. It runs no DDL: apply `migrations` first (`layerMigrations`).
 *
 * **Details**
 *
 * Costs, in round trips: one for every operation; `create` takes a second one only when its id or key exists but
 * the existing deployment was committed while the insert ran, and `requestStop`, `takeOver` and `requestOperation`
 * a second one only when the deployment changed concurrently (their update waited for the row, and the statement's
 * own read still saw it as before). `claim` and `takeOver` return the deployments with their jobs from the same
 * statement. The statement and lock bounds cost no round trip (see `Options`).
 *
 * **Gotchas**
 *
 * PostgreSQL only (the statements use `jsonb`, data-modifying `WITH` and `SKIP LOCKED`); another dialect is a
 * defect. An invalid option fails with `InvalidOption`. Deployment ids must be lowercase UUIDs (as
 * `crypto.randomUUID()` makes them): `create` refuses others with a `PersistenceError` (`invalid`), and the other
 * operations treat them as unknown. `jsonb` and `text` cannot hold `\u0000`, nor an unpaired surrogate: writing one
 * fails with `invalid`; and `jsonb` keeps object keys in its own order (values read back are equal, not
 * byte-identical JSON text). With `PgClient`'s `multiplex`, the driver cannot cancel one statement of a shared
 * connection: a timed-out statement then keeps running on the server (`lockTimeout` still bounds its lock waits).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<DeploymentStoreShape, InvalidOption, SqlClient.SqlClient> =>
  Effect.flatMap(resolveOptions(options), makeWith)

/**
 * The store's migrations, as a `Migrator` loader: forward-only, numbered (`0001_create_tables`, ...); fails with
 * `InvalidOption` for an invalid prefix.
 *
 * **When to use**
 *
 * To run the migrations with your own `Migrator` (for example `PgMigrator` with a schema dump); record them in
 * the same table `layerMigrations` uses (`${prefix}migrations`), or they run again.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrations = (options?: MigrationOptions): Effect.Effect<Migrator.Loader, InvalidOption> =>
  Effect.map(resolveTables(options), loaderFor)

/**
 * Applies the pending migrations, and records them in `${prefix}migrations`; provides no service.
 *
 * **Details**
 *
 * Uses `Migrator.make({})`: pending migrations run in one transaction under an exclusive lock on the migrations
 * table, so concurrent processes apply them once; a run with nothing pending changes nothing. The connection needs
 * the right to create tables: run it in a deploy step with an owner role, and `layer` with a role that only reads
 * and writes rows, if you separate them. An invalid option fails the layer with `InvalidOption` before it connects.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMigrations = (
  options?: MigrationOptions
): Layer.Layer<never, PersistenceError | InvalidOption, SqlClient.SqlClient> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const tables = yield* resolveTables(options)
    return yield* Migrator.make({})({ loader: loaderFor(tables), table: tables.migrations }).pipe(
      Effect.mapError(fromMigrationError)
    )
  }))

/**
 * The SQL store as a `DeploymentStore` layer, over the `SqlClient` in context. It runs no migrations. An invalid
 * option fails the layer with `InvalidOption`.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Config, Layer } from "effect"
 * import { SqlDeploymentStore } from "effect-actions"
 *
 * const StoreLive = SqlDeploymentStore.layer({ statementTimeout: "30 seconds" }).pipe(
 *   Layer.provide(SqlDeploymentStore.layerMigrations()),
 *   Layer.provide(PgClient.layerConfig({ url: Config.Redacted("DATABASE_URL") }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<DeploymentStore, InvalidOption, SqlClient.SqlClient> =>
  Layer.effect(DeploymentStore, make(options))
