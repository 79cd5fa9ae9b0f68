/**
 * The `DeploymentStore` contract over `effect/sql`'s `SqlClient`, on PostgreSQL (`@effect/sql-pg`).
 *
 * **Guarantees** (on top of the contract's, checked by `DeploymentStoreSuite`):
 * - every operation is one SQL statement, so one round trip and one implicit transaction (`create` and
 *   `requestStop` take a second one only after losing a race, see `make`); `checkpoint` is a data-modifying
 *   `WITH` statement whose deployment update is fenced in its `WHERE` (`id`, `owner`, `lease_epoch`) and whose job
 *   updates and error inserts only apply when that update matched, so a fenced-out writer changes nothing and gets
 *   `LeaseLost`; `appendErrors` and `setJobData` are fenced the same way (with a `FOR SHARE` lock on the row);
 * - `claim` uses `FOR UPDATE SKIP LOCKED`, so concurrent claimers never take the same deployment;
 * - `SqlError` never leaves this module: it becomes `PersistenceError` with a `reason` (`connection`,
 *   `conflict`, `timeout`, `invalid`, `unknown`) and the `SqlError` as its cause; a row that does not have the
 *   expected shape is a `PersistenceError` too, never a defect;
 * - JSON values are stored as `jsonb` (the JSON value `null` as `'null'`, an absent value as SQL `NULL`) and read
 *   back as equal values; timestamps are `timestamptz`, converted from and to epoch milliseconds exactly.
 *
 * - `transaction` runs transactional jobs and their checkpoints in one transaction of the same client;
 * - when the `SqlClient` comes from `@effect/sql-pg`'s `PgClient` layer, stop requests are also announced with
 *   `pg_notify` (in the same statement that records them) and delivered by `stopRequests` through `LISTEN`, which
 *   holds one pooled connection while it is consumed.
 *
 * Tables (prefix `effect_actions_` unless configured): `deployments`, `job_runs`, `job_data`, `errors`, and the
 * migrations history `migrations`. Run `layerMigrations` (forward-only, numbered migrations) before using the
 * store; `layer` itself runs no DDL, so it works with a connection that may only read and write rows.
 * See `docs/postgresql.md`.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, type Queue, type Scope, Stream } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { LeaseLost, PersistenceError } from "./ActionError.ts"
import {
  type CreateResult,
  decodeCursor,
  DeploymentStore,
  encodeCursor,
  type DeploymentStoreShape,
  type Fence,
  invalidCursor,
  type ListPage,
  type Runnable,
  type Snapshot,
  type StopResult
} from "./DeploymentStore.ts"
import {
  decodeCount,
  decodeCreateResult,
  decodeDeployment,
  decodeError,
  decodeHeldLease,
  decodeJsonValue,
  decodeSnapshot,
  decodeStopResult,
  fromMigrationError,
  fromSqlError,
  isUuid,
  jsonParam,
  run
} from "./internal/sqlRows.ts"
import { activeStatuses, defaultPrefix, loaderFor, tablesFor } from "./internal/sqlTables.ts"

/**
 * Options of the SQL store.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Prefix of every table, index and constraint name, and of the migrations table (`${prefix}migrations`).
   * Lowercase letters, digits and underscores, not starting with a digit, at most 39 characters. Default
   * `effect_actions_`.
   */
  readonly prefix?: string | undefined
}

const lowercaseUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * The LISTEN side of `@effect/sql-pg`'s `PgClient`, found by its service key, so that this module works (without
 * notifications) on any `SqlClient` and does not import the driver.
 */
interface PgListener {
  readonly listen: (
    channel: string
  ) => Effect.Effect<Queue.Dequeue<{ readonly payload: string }, unknown>, unknown, Scope.Scope>
}
const PgListener = Context.Service<PgListener>("@effect/sql-pg/PgClient")

/** A failure of the effect run inside `transaction`, kept apart from the transaction's own `SqlError`s. */
class InnerFailure<E> {
  readonly error: E
  constructor(error: E) {
    this.error = error
  }
}

/**
 * Builds the store over the `SqlClient` in context. It runs no DDL: apply `migrations` first (`layerMigrations`).
 *
 * **Details**
 *
 * Costs, in round trips: one for every operation; `create` takes a second one only when its key exists but the
 * existing deployment was committed while the insert ran, and `requestStop` a second one only when the deployment
 * changed status concurrently. `claim` returns the claimed deployments with their jobs from the same statement.
 *
 * **Gotchas**
 *
 * PostgreSQL only (the statements use `jsonb`, data-modifying `WITH` and `SKIP LOCKED`); another dialect, or an
 * invalid prefix, is a defect. Deployment ids must be lowercase UUIDs (as `crypto.randomUUID()` makes them):
 * `create` refuses others with a `PersistenceError` (`invalid`), and the other operations treat them as unknown.
 * `jsonb` cannot hold `\u0000` in a string nor an unpaired surrogate: writing one fails with `invalid`; and it
 * keeps object keys in its own order (values read back are equal, not byte-identical JSON text).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<DeploymentStoreShape, never, SqlClient.SqlClient> =
  Effect.fnUntraced(function*(options?: Options) {
    const tables = yield* Effect.sync(() => tablesFor(options?.prefix ?? defaultPrefix))
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const listener = yield* Effect.serviceOption(PgListener)
    const stopChannel = `${tables.prefix}stops`
    if (!sql.onDialectOrElse({ pg: () => true, orElse: () => false })) {
      return yield* Effect.die(new Error("SqlDeploymentStore supports PostgreSQL only (@effect/sql-pg)"))
    }
    const deployments = sql(tables.deployments)
    const jobRuns = sql(tables.jobRuns)
    const jobData = sql(tables.jobData)
    const errors = sql(tables.errors)
    const active = sql.literal(activeStatuses)

    /** Epoch milliseconds (a parameter) as a `timestamptz`; `undefined` is SQL `NULL`. */
    const at = (millis: number | undefined) =>
      sql`(timestamptz 'epoch' + ${millis ?? null}::bigint * interval '1 millisecond')`
    /** Epoch milliseconds read from a JSON object (an SQL expression) as a `timestamptz`. */
    const atJson = (expression: string) =>
      sql.literal(`(timestamptz 'epoch' + (${expression})::bigint * interval '1 millisecond')`)
    const millis = (column: string) => `(extract(epoch FROM ${column}) * 1000)`

    const deploymentColumns = sql.literal(
      "d.id::text AS id, d.application, d.action, d.key, d.fingerprint, d.status, d.current_job, " +
        "d.state::text AS state, d.output::text AS output, d.failure::text AS failure, d.owner, " +
        `${millis("d.lease_expires_at")}::float8 AS lease_expires_at, d.lease_epoch, d.stop_requested, ` +
        `${millis("d.created_at")}::float8 AS created_at, ${millis("d.updated_at")}::float8 AS updated_at`
    )
    // one JSON text per deployment: [index, name, status, [input] | null, [output] | null, attempts, started, finished]
    const snapshotColumns = sql`${deploymentColumns}, (
  SELECT COALESCE(json_agg(json_build_array(
    r."index", r.name, r.status,
    CASE WHEN r.input IS NULL THEN NULL ELSE json_build_array(r.input) END,
    CASE WHEN r.output IS NULL THEN NULL ELSE json_build_array(r.output) END,
    r.attempts, ${sql.literal(millis("r.started_at"))}::bigint, ${sql.literal(millis("r.finished_at"))}::bigint
  ) ORDER BY r."index"), '[]'::json)::text
  FROM ${jobRuns} r WHERE r.deployment_id = d.id
) AS jobs`

    /** The runnable definitions as a row source `r(application, action, fingerprint)`, from one jsonb parameter. */
    const runnableRows = (runnable: ReadonlyArray<Runnable>) =>
      sql`jsonb_to_recordset(${
        JSON.stringify(runnable.map(({ action, application, fingerprint }) => ({ application, action, fingerprint })))
      }::jsonb) AS r(application text, action text, fingerprint text)`

    const leaseLost = (fence: Fence) =>
      new LeaseLost({ deploymentId: fence.deploymentId, owner: fence.owner, epoch: fence.epoch })
    /** Whether no stored lease can match `fence` (its id is not a UUID, or its epoch not an integer). */
    const unmatchable = (fence: Fence) => !isUuid(fence.deploymentId) || !Number.isSafeInteger(fence.epoch)
    /** The deployment row, locked against a concurrent claim, while `fence` holds its lease. */
    const fencedRow = (fence: Fence) =>
      sql`SELECT d.id FROM ${deployments} d
WHERE d.id = ${fence.deploymentId}::uuid AND d.owner = ${fence.owner}::text AND d.lease_epoch = ${fence.epoch}::bigint
FOR SHARE`

    const insertDeployment = (snapshot: Snapshot) => {
      const d = snapshot.deployment
      return sql`WITH inserted AS (
  INSERT INTO ${deployments} (id, application, action, key, fingerprint, status, current_job, state, output, failure,
    owner, lease_expires_at, lease_epoch, stop_requested, created_at, updated_at)
  VALUES (${d.id}::uuid, ${d.application}::text, ${d.action}::text, ${d.key ?? null}::text, ${d.fingerprint}::text,
    ${d.status}::text, ${d.currentJob}::integer, ${jsonParam(d.state)}::jsonb, ${jsonParam(d.output)}::jsonb,
    ${jsonParam(d.failure)}::jsonb, ${d.owner ?? null}::text, ${at(d.leaseExpiresAt)}, ${d.leaseEpoch}::bigint,
    ${d.stopRequested}::boolean, ${at(d.createdAt)}, ${at(d.updatedAt)})
  ON CONFLICT (application, action, key) DO NOTHING
  RETURNING id
), jobs AS (
  INSERT INTO ${jobRuns} (deployment_id, "index", name, status, input, output, attempts, started_at, finished_at)
  SELECT inserted.id, (j.value->>'index')::integer, j.value->>'name', j.value->>'status', j.value->'input',
    j.value->'output', (j.value->>'attempts')::integer, ${atJson("j.value->>'startedAt'")},
    ${atJson("j.value->>'finishedAt'")}
  FROM inserted, jsonb_array_elements(${JSON.stringify(snapshot.jobs)}::jsonb) AS j(value)
)
SELECT EXISTS (SELECT 1 FROM inserted) AS created, existing.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
  SELECT ${snapshotColumns} FROM ${deployments} d
  WHERE d.application = ${d.application}::text AND d.action = ${d.action}::text AND d.key = ${d.key ?? null}::text
) AS existing ON NOT EXISTS (SELECT 1 FROM inserted)`
    }

    const selectByKey = (snapshot: Snapshot) =>
      sql`SELECT ${snapshotColumns} FROM ${deployments} d
WHERE d.application = ${snapshot.deployment.application}::text AND d.action = ${snapshot.deployment.action}::text
  AND d.key = ${snapshot.deployment.key ?? null}::text`

    const create = Effect.fnUntraced(function*(snapshot: Snapshot) {
      const id = snapshot.deployment.id
      if (!lowercaseUuid.test(id)) {
        return yield* new PersistenceError({
          reason: "invalid",
          operation: "create",
          detail: `deployment ids must be lowercase UUIDs, got ${JSON.stringify(id.slice(0, 100))}`
        })
      }
      // At most three tries: the existing deployment of a key can be committed while the insert waits for it (then
      // a second read finds it), or pruned between the insert and that read (then the insert is tried again).
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = yield* run("create", () => insertDeployment(snapshot), decodeCreateResult)
        if (result !== undefined) return result
        const existing = yield* run("create", () => selectByKey(snapshot), (rows) => rows.map(decodeSnapshot))
        if (existing[0] !== undefined) return { _tag: "Existing", snapshot: existing[0] } satisfies CreateResult
      }
      return yield* new PersistenceError({
        reason: "conflict",
        operation: "create",
        detail: "the deployment with this key was created and deleted concurrently; try again"
      })
    })

    const requestStop = Effect.fnUntraced(function*(deploymentId: string, stopAt: number) {
      if (!isUuid(deploymentId)) return { _tag: "NotFound" } satisfies StopResult
      // Another try only when the deployment left `running` while the update waited for its row lock (the
      // statement's own read then still sees it running).
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = yield* run(
          "requestStop",
          () =>
            sql`WITH stopped AS (
  UPDATE ${deployments} SET stop_requested = true, updated_at = ${at(stopAt)}
  WHERE id = ${deploymentId}::uuid AND status = 'running'
  RETURNING id, owner
)
SELECT true AS stopped, s.owner, NULL::text AS status,
  (SELECT true FROM (SELECT pg_notify(${stopChannel}::text, s.id::text)) AS notified) AS notified
FROM stopped s
UNION ALL
SELECT false, NULL, d.status, false FROM ${deployments} d
WHERE d.id = ${deploymentId}::uuid AND NOT EXISTS (SELECT 1 FROM stopped)`,
          decodeStopResult
        )
        if (result !== undefined) return result
      }
      return yield* new PersistenceError({
        reason: "conflict",
        operation: "requestStop",
        detail: "the deployment changed status concurrently; try again"
      })
    })

    const store: DeploymentStoreShape = {
      create,

      checkpoint: (checkpoint) => {
        const { fence, deployment: patch } = checkpoint
        if (unmatchable(fence)) return Effect.fail(leaseLost(fence))
        return Effect.flatMap(
          run("checkpoint", () =>
            sql`WITH fenced AS (
  UPDATE ${deployments} SET
    status = COALESCE(${patch.status ?? null}::text, status),
    current_job = COALESCE(${patch.currentJob ?? null}::integer, current_job),
    state = COALESCE(${jsonParam(patch.state)}::jsonb, state),
    output = COALESCE(${jsonParam(patch.output)}::jsonb, output),
    failure = COALESCE(${jsonParam(patch.failure)}::jsonb, failure),
    owner = CASE WHEN ${patch.releaseLease === true}::boolean THEN NULL ELSE owner END,
    lease_expires_at = CASE WHEN ${patch.releaseLease === true}::boolean THEN NULL ELSE lease_expires_at END,
    updated_at = ${at(checkpoint.at)}
  WHERE id = ${fence.deploymentId}::uuid AND owner = ${fence.owner}::text AND lease_epoch = ${fence.epoch}::bigint
  RETURNING id, stop_requested
), jobs AS (
  UPDATE ${jobRuns} AS r SET
    status = p.value->>'status',
    input = COALESCE(p.value->'input', r.input),
    output = COALESCE(p.value->'output', r.output),
    attempts = COALESCE((p.value->>'attempts')::integer, r.attempts),
    started_at = COALESCE(${atJson("p.value->>'startedAt'")}, r.started_at),
    finished_at = COALESCE(${atJson("p.value->>'finishedAt'")}, r.finished_at)
  FROM fenced, jsonb_array_elements(${JSON.stringify(checkpoint.jobs)}::jsonb) AS p(value)
  WHERE r.deployment_id = fenced.id AND r."index" = (p.value->>'index')::integer
), appended AS (
  INSERT INTO ${errors} (deployment_id, job, phase, tag, message, detail, at)
  SELECT fenced.id, e.value->>'job', e.value->>'phase', e.value->>'tag', e.value->>'message', e.value->'detail',
    ${atJson("e.value->>'at'")}
  FROM fenced, jsonb_array_elements(${JSON.stringify(checkpoint.errors)}::jsonb) WITH ORDINALITY AS e(value, position)
  ORDER BY e.position
)
SELECT stop_requested FROM fenced`, (rows) => rows[0]?.stop_requested),
          (stopRequested) =>
            typeof stopRequested === "boolean" ? Effect.succeed({ stopRequested }) : Effect.fail(leaseLost(fence))
        )
      },

      appendErrors: (fence, entries) => {
        if (unmatchable(fence)) return Effect.fail(leaseLost(fence))
        return Effect.flatMap(
          run("appendErrors", () =>
            sql`WITH fenced AS (${fencedRow(fence)}), appended AS (
  INSERT INTO ${errors} (deployment_id, job, phase, tag, message, detail, at)
  SELECT fenced.id, e.value->>'job', e.value->>'phase', e.value->>'tag', e.value->>'message', e.value->'detail',
    ${atJson("e.value->>'at'")}
  FROM fenced, jsonb_array_elements(${JSON.stringify(entries)}::jsonb) WITH ORDINALITY AS e(value, position)
  ORDER BY e.position
)
SELECT 1 AS held FROM fenced`, (rows) => rows.length > 0),
          (held) => held ? Effect.void : Effect.fail(leaseLost(fence))
        )
      },

      setJobData: (fence, job, key, value) => {
        if (unmatchable(fence)) return Effect.fail(leaseLost(fence))
        return Effect.flatMap(
          run("setJobData", () =>
            sql`WITH fenced AS (${fencedRow(fence)}), upserted AS (
  INSERT INTO ${jobData} (deployment_id, job, key, value)
  SELECT fenced.id, ${job}::text, ${key}::text, ${jsonParam(value)}::jsonb FROM fenced
  ON CONFLICT (deployment_id, job, key) DO UPDATE SET value = EXCLUDED.value
)
SELECT 1 AS held FROM fenced`, (rows) => rows.length > 0),
          (held) => held ? Effect.void : Effect.fail(leaseLost(fence))
        )
      },

      getJobData: (deploymentId, job, key) =>
        isUuid(deploymentId)
          ? run(
            "getJobData",
            () =>
              sql`SELECT value::text AS value FROM ${jobData}
WHERE deployment_id = ${deploymentId}::uuid AND job = ${job}::text AND key = ${key}::text`,
            (rows) => rows[0] === undefined ? Option.none() : Option.some(decodeJsonValue(rows[0]))
          )
          : Effect.succeed(Option.none()),

      get: (deploymentId) =>
        isUuid(deploymentId)
          ? run(
            "get",
            () => sql`SELECT ${snapshotColumns} FROM ${deployments} d WHERE d.id = ${deploymentId}::uuid`,
            (rows) => rows[0] === undefined ? Option.none() : Option.some(decodeSnapshot(rows[0]))
          )
          : Effect.succeed(Option.none()),

      list: (query) => {
        const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
        if (query.cursor !== undefined && (after === undefined || Option.isNone(after) || !isUuid(after.value.id))) {
          return Effect.fail(invalidCursor(query.cursor))
        }
        const limit = Math.min(Math.floor(query.limit), Number.MAX_SAFE_INTEGER - 1)
        if (!(limit >= 1)) return Effect.succeed<ListPage>({ items: [] })
        const conditions = [
          ...(query.statuses === undefined
            ? []
            : [sql`d.status IN (SELECT jsonb_array_elements_text(${JSON.stringify(query.statuses)}::jsonb))`]),
          ...(query.application === undefined ? [] : [sql`d.application = ${query.application}::text`]),
          ...(query.action === undefined ? [] : [sql`d.action = ${query.action}::text`]),
          ...(after === undefined || Option.isNone(after)
            ? []
            : [sql`(d.created_at, d.id) < (${at(after.value.createdAt)}, ${after.value.id}::uuid)`])
        ]
        return run(
          "list",
          () =>
            sql`SELECT ${deploymentColumns} FROM ${deployments} d WHERE ${sql.and(conditions)}
ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit + 1}::bigint`,
          (rows): ListPage => {
            const items = rows.slice(0, limit).map(decodeDeployment)
            const last = items[items.length - 1]
            return rows.length > limit && last !== undefined
              ? { items, next: encodeCursor(last) }
              : { items }
          }
        )
      },

      errors: (deploymentId, job) =>
        isUuid(deploymentId)
          ? run(
            "errors",
            () =>
              sql`SELECT e.sequence, e.job, e.phase, e.tag, e.message, e.detail::text AS detail,
  ${sql.literal(millis("e.at"))}::float8 AS at
FROM ${errors} e WHERE e.deployment_id = ${deploymentId}::uuid${
                job === undefined ? sql`` : sql` AND e.job = ${job}::text`
              } ORDER BY e.sequence`,
            (rows) => rows.map(decodeError)
          )
          : Effect.succeed([]),

      requestStop,

      claim: (request) => {
        if (request.runnable.length === 0 || !(request.limit >= 1)) return Effect.succeed([])
        return run(
          "claim",
          () =>
            sql`WITH candidates AS (
  SELECT d.id, d.lease_expires_at AS previous_expiry FROM ${deployments} d
  WHERE d.status IN ${active}
    AND (d.application, d.action, d.fingerprint) IN (
      SELECT r.application, r.action, r.fingerprint
      FROM ${runnableRows(request.runnable)}
    )
    AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ${at(request.now)})
  ORDER BY d.lease_expires_at NULLS FIRST, d.created_at, d.id
  LIMIT ${Math.min(Math.floor(request.limit), Number.MAX_SAFE_INTEGER)}::bigint
  FOR UPDATE OF d SKIP LOCKED
), claimed AS (
  UPDATE ${deployments} AS d
  SET owner = ${request.owner}::text, lease_epoch = d.lease_epoch + 1,
    lease_expires_at = ${at(request.now + request.leaseTtlMillis)}
  FROM candidates c WHERE d.id = c.id
  RETURNING d.*, c.previous_expiry
)
SELECT ${snapshotColumns} FROM claimed d ORDER BY d.previous_expiry NULLS FIRST, d.created_at, d.id`,
          (rows) => rows.map(decodeSnapshot)
        )
      },

      heartbeat: (request) => {
        const ids = request.deploymentIds.filter(isUuid)
        if (ids.length === 0) return Effect.succeed([])
        return run(
          "heartbeat",
          () =>
            // A join, not `id IN (subquery)`: for an owner the planner's statistics do not know yet (any process
            // that just took deployments over), the IN form was planned as a semi-join scanning the whole id
            // list per row, quadratic in the leases held (37 s for 10,000; see docs/benchmarks.md).
            sql`UPDATE ${deployments} AS d SET lease_expires_at = ${at(request.now + request.leaseTtlMillis)}
FROM jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) AS held(id)
WHERE d.id = held.id::uuid AND d.owner = ${request.owner}::text AND d.status IN ${active}
RETURNING d.id::text AS id, d.lease_epoch, d.stop_requested`,
          (rows) => rows.map(decodeHeldLease)
        )
      },

      release: (fence, releaseAt) =>
        !unmatchable(fence)
          ? run(
            "release",
            () =>
              sql`UPDATE ${deployments} SET owner = NULL, lease_expires_at = ${at(releaseAt)},
  updated_at = ${at(releaseAt)}
WHERE id = ${fence.deploymentId}::uuid AND owner = ${fence.owner}::text AND lease_epoch = ${fence.epoch}::bigint`,
            () => undefined
          )
          : Effect.void,

      prune: (before) =>
        run(
          "prune",
          () =>
            sql`WITH pruned AS (
  DELETE FROM ${deployments} WHERE status NOT IN ${active} AND updated_at < ${at(before)} RETURNING 1
)
SELECT count(*) AS count FROM pruned`,
          decodeCount
        ),

      findMismatched: (request) => {
        if (request.runnable.length === 0 || !(request.limit >= 1)) return Effect.succeed([])
        return run(
          "findMismatched",
          () =>
            sql`SELECT ${deploymentColumns} FROM ${deployments} d
WHERE d.status IN ${active}
  AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ${at(request.now)})
  AND EXISTS (
    SELECT 1 FROM ${runnableRows(request.runnable)}
    WHERE r.application = d.application AND r.action = d.action AND r.fingerprint <> d.fingerprint
  )
ORDER BY d.created_at, d.id
LIMIT ${Math.min(Math.floor(request.limit), Number.MAX_SAFE_INTEGER)}::bigint`,
          (rows) => rows.map(decodeDeployment)
        )
      },

      appendErrorOnce: (deploymentId, entry) =>
        isUuid(deploymentId)
          ? run(
            "appendErrorOnce",
            () =>
              sql`WITH target AS (SELECT d.id FROM ${deployments} d WHERE d.id = ${deploymentId}::uuid), appended AS (
  INSERT INTO ${errors} (deployment_id, job, phase, tag, message, detail, at)
  SELECT target.id, ${entry.job ?? null}::text, ${entry.phase}::text, ${entry.tag}::text, ${entry.message}::text,
    ${jsonParam(entry.detail)}::jsonb, ${at(entry.at)}
  FROM target
  WHERE NOT EXISTS (
    SELECT 1 FROM ${errors} e WHERE e.deployment_id = target.id AND e.tag = ${entry.tag}::text
      AND e.message = ${entry.message}::text
  )
  RETURNING 1
)
SELECT count(*) AS count FROM appended`,
            (rows) => decodeCount(rows) > 0
          )
          : Effect.succeed(false),

      transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        client.withTransaction(Effect.mapError(effect, (error) => new InnerFailure(error))).pipe(
          Effect.catch((error): Effect.Effect<never, E | PersistenceError> =>
            error instanceof InnerFailure
              ? Effect.fail(error.error as E)
              : Effect.fail(fromSqlError("transaction", error))
          )
        ),

      ...(Option.isSome(listener)
        ? {
          stopRequests: Stream.unwrap(Effect.map(listener.value.listen(stopChannel), Stream.fromQueue)).pipe(
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
        }
        : {})
    }
    return store
  })

/**
 * The store's migrations, as a `Migrator` loader: forward-only, numbered (`0001_create_tables`, ...).
 *
 * **When to use**
 *
 * To run the migrations with your own `Migrator` (for example `PgMigrator` with a schema dump); record them in
 * the same table `layerMigrations` uses (`${prefix}migrations`), or they run again.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrations = (options?: Options): Migrator.Loader =>
  Effect.suspend(() => loaderFor(tablesFor(options?.prefix ?? defaultPrefix)))

/**
 * Applies the pending migrations, and records them in `${prefix}migrations`; provides no service.
 *
 * **Details**
 *
 * Uses `Migrator.make({})`: pending migrations run in one transaction under an exclusive lock on the migrations
 * table, so concurrent processes apply them once; a run with nothing pending changes nothing. The connection needs
 * the right to create tables: run it in a deploy step with an owner role, and `layer` with a role that only reads
 * and writes rows, if you separate them.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMigrations = (options?: Options): Layer.Layer<never, PersistenceError, SqlClient.SqlClient> =>
  Layer.effectDiscard(Effect.suspend(() => {
    const tables = tablesFor(options?.prefix ?? defaultPrefix)
    return Migrator.make({})({ loader: loaderFor(tables), table: tables.migrations }).pipe(
      Effect.mapError(fromMigrationError)
    )
  }))

/**
 * The SQL store as a `DeploymentStore` layer, over the `SqlClient` in context. It runs no migrations.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Config, Layer } from "effect"
 * import { SqlDeploymentStore } from "effect-actions"
 *
 * const StoreLive = SqlDeploymentStore.layer().pipe(
 *   Layer.provide(SqlDeploymentStore.layerMigrations()),
 *   Layer.provide(PgClient.layerConfig({ url: Config.Redacted("DATABASE_URL") }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<DeploymentStore, never, SqlClient.SqlClient> =>
  Layer.effect(DeploymentStore, make(options))
