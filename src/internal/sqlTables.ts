/**
 * Table names and migrations of the SQL deployment store.
 *
 * Every name the store creates (tables, indexes, constraints) starts with the configured prefix, so several stores
 * (or test suites) can share one database. Migrations are forward-only and numbered: a released migration is never
 * edited, a change is a new migration.
 *
 * @internal
 */
import { Effect } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import type { DeploymentStatus } from "../Deployment.ts"

/** The default table prefix. */
export const defaultPrefix = "effect_actions_"

/**
 * The longest suffix the store appends to the prefix (`job_runs_deployment_fkey`, 24 characters; every later
 * migration keeps its names within it), so that every name fits PostgreSQL's 63 bytes and is never silently
 * truncated.
 */
const longestSuffix = 24
/** The longest table prefix: 39 characters. */
export const maxPrefixLength = 63 - longestSuffix
const prefixPattern = /^[a-z_][a-z0-9_]*$/

/** What the prefix option accepts, in words (for `InvalidOption`). */
export const prefixExpected =
  `lowercase letters, digits and underscores, not starting with a digit, 1 to ${maxPrefixLength} characters`

/** Whether a table prefix is a plain identifier the store can put in front of every name. */
export const isValidPrefix = (prefix: string): boolean =>
  prefixPattern.test(prefix) && prefix.length <= maxPrefixLength

/** The names of the store's tables and the migrations table, for one prefix. */
export interface Tables {
  readonly prefix: string
  readonly deployments: string
  /** The job runs, one row per job, of 0001 to 0003 (0004 moves them into `deployments.jobs`). */
  readonly jobRuns: string
  readonly jobData: string
  readonly errors: string
  /** The operators' operations on each deployment (0003). */
  readonly history: string
  readonly migrations: string
}

/**
 * The table names for a prefix checked with `isValidPrefix` (lowercase letters, digits and underscores, not
 * starting with a digit, at most 39 characters). Lowercase keeps every name the same whether it is quoted or not,
 * and untouched by a client's `transformQueryNames`.
 */
export const tablesFor = (prefix: string = defaultPrefix): Tables => {
  return {
    prefix,
    deployments: `${prefix}deployments`,
    jobRuns: `${prefix}job_runs`,
    jobData: `${prefix}job_data`,
    errors: `${prefix}errors`,
    history: `${prefix}history`,
    migrations: `${prefix}migrations`
  }
}

/** The statuses a lease is held for; must match `DeploymentStore.isActive`. */
export const activeStatuses = "('running', 'rolling_back')"

/** The statuses a deployment may be deleted in by `prune`; must match `Deployment.isTerminal`. */
export const terminalStatuses = "('succeeded', 'rolled_back', 'rollback_failed')"

/** Every deployment status, as `counts` reports them. */
export const countedStatuses: ReadonlyArray<DeploymentStatus> = [
  "running",
  "paused",
  "rolling_back",
  "rollback_failed",
  "rolled_back",
  "succeeded"
]

// The statuses each layout allows: 0001's list is kept as it was (a released migration never changes).
const deploymentStatuses = "('running', 'succeeded', 'rolling_back', 'rolled_back', 'rollback_failed')"
const deploymentStatusesV3 = "('running', 'succeeded', 'rolling_back', 'rolled_back', 'rollback_failed', 'paused')"
const operations = "('stop', 'retry', 'rollback', 'retry_rollback', 'restart')"
const operationOutcomes = "('requested', 'done', 'refused')"
const jobStatuses = "('pending', 'running', 'succeeded', 'failed', 'rolled_back', 'rollback_failed')"
const jobPhases = "('input', 'pre_hook', 'execute', 'post_hook', 'output', 'rollback', 'resume')"

/**
 * 0001: the four tables and their indexes.
 *
 * Index choices, for the hot path first: a checkpoint rewrites `status`, `current_job`, `state` and `updated_at`,
 * and a heartbeat rewrites `lease_expires_at`; none of those columns is indexed (except `status`, which changes a
 * few times per deployment), so both stay HOT updates (no index writes) and `fillfactor` leaves room for them on
 * the page. Claiming scans the partial index of active deployments (a small set: the ones in flight) instead of an
 * index on the lease expiry, which every heartbeat would have to rewrite.
 */
const createTables = (tables: Tables) =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const name = (suffix: string) => sql(`${tables.prefix}${suffix}`)
    const deployments = sql(tables.deployments)
    const jobRuns = sql(tables.jobRuns)
    const jobData = sql(tables.jobData)
    const errors = sql(tables.errors)
    const active = sql.literal(activeStatuses)

    yield* sql`CREATE TABLE ${deployments} (
  id uuid NOT NULL,
  application text NOT NULL,
  action text NOT NULL,
  key text,
  fingerprint text NOT NULL,
  status text NOT NULL,
  current_job integer NOT NULL,
  state jsonb,
  output jsonb,
  failure jsonb,
  owner text,
  lease_expires_at timestamptz,
  lease_epoch bigint NOT NULL,
  stop_requested boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT ${name("deployments_pkey")} PRIMARY KEY (id),
  CONSTRAINT ${name("deployments_key")} UNIQUE (application, action, key),
  CONSTRAINT ${name("deployments_status")} CHECK (status IN ${sql.literal(deploymentStatuses)})
) WITH (fillfactor = 80)`
    // list: newest first, unfiltered, by application (and action), by status
    yield* sql`CREATE INDEX ${name("deployments_list_idx")} ON ${deployments} (created_at DESC, id DESC)`
    yield* sql`CREATE INDEX ${
      name("deployments_app_idx")
    } ON ${deployments} (application, action, created_at DESC, id DESC)`
    yield* sql`CREATE INDEX ${name("deployments_status_idx")} ON ${deployments} (status, created_at DESC, id DESC)`
    // claim: the active deployments of a definition; heartbeat: the active deployments of an owner
    yield* sql`CREATE INDEX ${
      name("deployments_active_idx")
    } ON ${deployments} (application, action, fingerprint) WHERE status IN ${active}`
    yield* sql`CREATE INDEX ${name("deployments_owner_idx")} ON ${deployments} (owner) WHERE status IN ${active}`

    yield* sql`CREATE TABLE ${jobRuns} (
  deployment_id uuid NOT NULL,
  "index" integer NOT NULL,
  name text NOT NULL,
  status text NOT NULL,
  input jsonb,
  output jsonb,
  attempts integer NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  CONSTRAINT ${name("job_runs_pkey")} PRIMARY KEY (deployment_id, "index"),
  CONSTRAINT ${name("job_runs_deployment_fkey")} FOREIGN KEY (deployment_id)
    REFERENCES ${deployments} (id) ON DELETE CASCADE,
  CONSTRAINT ${name("job_runs_status")} CHECK (status IN ${sql.literal(jobStatuses)})
) WITH (fillfactor = 80)`

    yield* sql`CREATE TABLE ${jobData} (
  deployment_id uuid NOT NULL,
  job text NOT NULL,
  key text NOT NULL,
  value jsonb NOT NULL,
  CONSTRAINT ${name("job_data_pkey")} PRIMARY KEY (deployment_id, job, key),
  CONSTRAINT ${name("job_data_deployment_fkey")} FOREIGN KEY (deployment_id)
    REFERENCES ${deployments} (id) ON DELETE CASCADE
)`

    yield* sql`CREATE TABLE ${errors} (
  sequence bigint GENERATED ALWAYS AS IDENTITY,
  deployment_id uuid NOT NULL,
  job text,
  phase text NOT NULL,
  tag text NOT NULL,
  message text NOT NULL,
  detail jsonb,
  at timestamptz NOT NULL,
  CONSTRAINT ${name("errors_pkey")} PRIMARY KEY (sequence),
  CONSTRAINT ${name("errors_deployment_fkey")} FOREIGN KEY (deployment_id)
    REFERENCES ${deployments} (id) ON DELETE CASCADE,
  CONSTRAINT ${name("errors_phase")} CHECK (phase IN ${sql.literal(jobPhases)})
)`
    yield* sql`CREATE INDEX ${name("errors_deployment_idx")} ON ${errors} (deployment_id, sequence)`
  })

/**
 * 0002: resume counts and parked deployments, leases on the server's clock, and an index for every `list` filter.
 *
 * - `resumes` (how many times recovery claimed the deployment since its last checkpoint) and `parked` (why its data
 *   does not decode; `NULL` for a runnable deployment). Adding a column with a constant default rewrites nothing.
 * - The claim index of 0001 held `fingerprint`, the JSON list of every job name: unbounded, so an action with many
 *   or long job names could not be indexed (a B-tree entry holds about 2,700 bytes). `deployments_claim_idx`
 *   holds `(application, action)` only (each at most 256 bytes, see `limits.ts`), for the runnable, not parked,
 *   active deployments; claims compare the fingerprint on the rows it finds.
 * - `list` by application alone and by action alone get indexes ordered like the list, so that every filter
 *   combination reads an index in list order (see `docs/postgresql.md`).
 *
 * The new indexes are created `IF NOT EXISTS`: an operator of a large table can build them beforehand with
 * `CREATE INDEX CONCURRENTLY` (same names and definitions), so that the migration does not block writes while
 * building them.
 */
const addResumesParkedAndListIndexes = (tables: Tables) =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const name = (suffix: string) => sql(`${tables.prefix}${suffix}`)
    const deployments = sql(tables.deployments)
    const active = sql.literal(activeStatuses)

    yield* sql`ALTER TABLE ${deployments}
  ADD COLUMN resumes integer NOT NULL DEFAULT 0,
  ADD COLUMN parked jsonb`
    yield* sql`DROP INDEX IF EXISTS ${name("deployments_active_idx")}`
    yield* sql`CREATE INDEX IF NOT EXISTS ${
      name("deployments_claim_idx")
    } ON ${deployments} (application, action) WHERE status IN ${active} AND parked IS NULL`
    yield* sql`CREATE INDEX IF NOT EXISTS ${
      name("deployments_app_only_idx")
    } ON ${deployments} (application, created_at DESC, id DESC)`
    yield* sql`CREATE INDEX IF NOT EXISTS ${
      name("deployments_action_idx")
    } ON ${deployments} (action, created_at DESC, id DESC)`
  })

/**
 * 0003: operator operations: the `paused` status, restarts, requested operations and the history of operations.
 *
 * - The status check of 0001 is replaced by one that allows `paused` too. It is added `NOT VALID`: the rows already
 *   there passed 0001's narrower check, so the table is not read to check them again (a read under the migration's
 *   exclusive lock); new and updated rows are checked as always. `ALTER TABLE ... VALIDATE CONSTRAINT` may be run
 *   later, without blocking writes, to mark it validated.
 * - `restart_of` (`text`: the id of the deployment a restart started from, as given) and `request` (`jsonb`: an
 *   operation requested by a process without the action's code, `NULL` when none is pending). Adding nullable
 *   columns without a default rewrites nothing.
 * - `history`, append-only like `errors` and deleted with its deployment, ordered by `sequence`.
 * - `deployments_requests_idx`, a partial index of the deployments with a pending request (few at any time), for
 *   `findRequests`. It holds `(application, action)`, not the unbounded fingerprint (see 0002), and no column a
 *   checkpoint or a heartbeat rewrites, so both stay HOT updates.
 *
 * - `rollback_started_at` and `rollback_finished_at` on job runs: when each job's rollback ran, for timelines (a job's
 *   `finished_at` stays the end of its last attempt); `earlier_attempts`, the times of the attempts before the last
 *   (a JSON array, written only when a job starts again).
 * - `deployments_key_idx`, for `list` by key alone (the unique key index starts with the application and action).
 *
 * `list`'s new created-range filters need no index of their own: every list index is ordered by `created_at` right
 * after the columns it filters on by equality, so a range is one range of the same index.
 */
const addOperatorOperations = (tables: Tables) =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const name = (suffix: string) => sql(`${tables.prefix}${suffix}`)
    const deployments = sql(tables.deployments)
    const history = sql(tables.history)

    yield* sql`ALTER TABLE ${deployments}
  DROP CONSTRAINT ${name("deployments_status")},
  ADD CONSTRAINT ${name("deployments_status")} CHECK (status IN ${sql.literal(deploymentStatusesV3)}) NOT VALID,
  ADD COLUMN restart_of text,
  ADD COLUMN request jsonb`
    yield* sql`CREATE INDEX IF NOT EXISTS ${
      name("deployments_requests_idx")
    } ON ${deployments} (application, action) WHERE request IS NOT NULL`

    yield* sql`CREATE TABLE ${history} (
  sequence bigint GENERATED ALWAYS AS IDENTITY,
  deployment_id uuid NOT NULL,
  operation text NOT NULL,
  outcome text NOT NULL,
  "by" text NOT NULL,
  at timestamptz NOT NULL,
  reason text,
  job text,
  message text,
  detail jsonb,
  CONSTRAINT ${name("history_pkey")} PRIMARY KEY (sequence),
  CONSTRAINT ${name("history_deployment_fkey")} FOREIGN KEY (deployment_id)
    REFERENCES ${deployments} (id) ON DELETE CASCADE,
  CONSTRAINT ${name("history_operation")} CHECK (operation IN ${sql.literal(operations)}),
  CONSTRAINT ${name("history_outcome")} CHECK (outcome IN ${sql.literal(operationOutcomes)})
)`
    yield* sql`CREATE INDEX ${name("history_deployment_idx")} ON ${history} (deployment_id, sequence)`

    yield* sql`ALTER TABLE ${sql(tables.jobRuns)}
  ADD COLUMN rollback_started_at timestamptz,
  ADD COLUMN rollback_finished_at timestamptz,
  ADD COLUMN earlier_attempts jsonb`
    yield* sql`CREATE INDEX IF NOT EXISTS ${
      name("deployments_key_idx")
    } ON ${deployments} (key, created_at DESC, id DESC) WHERE key IS NOT NULL`
  })

/**
 * A job run row of 0001-0003 (`r`) as the job record 0004 keeps in the deployment row: `Deployment.JobRun`'s
 * encoded form, absent fields left out (a `NULL` input or output is absent; a JSON `null` one is kept).
 */
const jobRecordOf = (sql: SqlClient.SqlClient) => {
  const optional = (field: string, value: string) =>
    `CASE WHEN ${value} IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('${field}', ${value}) END`
  const time = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::bigint`
  return sql.literal(
    [
      `jsonb_build_object('index', r."index", 'name', r.name, 'status', r.status, 'attempts', r.attempts)`,
      optional("input", "r.input"),
      optional("output", "r.output"),
      optional("startedAt", time("r.started_at")),
      optional("finishedAt", time("r.finished_at")),
      optional("rollbackStartedAt", time("r.rollback_started_at")),
      optional("rollbackFinishedAt", time("r.rollback_finished_at")),
      optional("earlierAttempts", "r.earlier_attempts")
    ].join("\n      || ")
  )
}

/**
 * 0004: the job records move into the deployment row (storage v2).
 *
 * - `jobs` (`jsonb`): the deployment's job records as one array, in job order, each the encoded `JobRun`
 *   (`{ index, name, status, attempts, input?, output?, startedAt?, finishedAt?, rollbackStartedAt?,
 *   rollbackFinishedAt?, earlierAttempts? }`, times in epoch milliseconds). A checkpoint rewrites one row instead
 *   of one deployment row and a job run row per job it touches, a create inserts one row instead of one per job,
 *   and a read reads one row.
 * - The job runs of every deployment, in every status, are converted into it, then `job_runs` is dropped. The
 *   conversion rewrites every deployment row, under the migration's lock: on a large table it takes a while, and
 *   writes about the table's size of WAL.
 *
 * - Leaner indexes, for the hot path: every index entry is written again whenever a row gets a new version that
 *   is not a HOT update (a create, and the checkpoint that changes the status).
 *   - `deployments_owner_idx` is dropped. Heartbeats renew leases by id (the primary key), nothing reads by owner,
 *     and since `owner` was indexed, every claim and every lease release was a non-HOT update (a new entry in every
 *     index); now they are HOT.
 *   - The unique key constraint becomes a unique index of the keyed deployments only
 *     (`deployments_key ... WHERE key IS NOT NULL`): a deployment without a key, which no key can conflict with,
 *     writes no entry in it. A create's `ON CONFLICT DO NOTHING` (no conflict target) still meets it.
 *
 * No index holds `jobs`, so a checkpoint that changes only the job records, the state and the times stays a HOT
 * update.
 */
const moveJobsIntoDeployments = (tables: Tables) =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const name = (suffix: string) => sql(`${tables.prefix}${suffix}`)
    const deployments = sql(tables.deployments)
    const jobRuns = sql(tables.jobRuns)

    yield* sql`ALTER TABLE ${deployments} ADD COLUMN jobs jsonb`
    yield* sql`UPDATE ${deployments} AS d SET jobs = COALESCE((
  SELECT jsonb_agg(${jobRecordOf(sql)} ORDER BY r."index")
  FROM ${jobRuns} r WHERE r.deployment_id = d.id
), '[]'::jsonb)`
    yield* sql`ALTER TABLE ${deployments} ALTER COLUMN jobs SET NOT NULL`
    yield* sql`DROP TABLE ${jobRuns}`
    yield* sql`DROP INDEX IF EXISTS ${name("deployments_owner_idx")}`
    yield* sql`ALTER TABLE ${deployments} DROP CONSTRAINT ${name("deployments_key")}`
    yield* sql`CREATE UNIQUE INDEX ${name("deployments_key")} ON ${deployments} (application, action, key)
  WHERE key IS NOT NULL`
  })

/** The migrations, in order, for a set of tables. */
const migrationsOf = (tables: Tables) => ({
  "0001_create_tables": createTables(tables),
  "0002_resumes_parked_and_list_indexes": addResumesParkedAndListIndexes(tables),
  "0003_operator_operations": addOperatorOperations(tables),
  "0004_jobs_in_deployments": moveJobsIntoDeployments(tables)
})

/** The migration loader for a set of tables. */
export const loaderFor = (tables: Tables): Migrator.Loader => Migrator.fromRecord(migrationsOf(tables))

/**
 * The loader of the migrations up to `last` (its number) only, for tests that upgrade a database made by an older
 * release (0002: effect-actions 0.2; 0003: 0.3).
 */
export const loaderThroughFor = (tables: Tables, last: number): Migrator.Loader =>
  Migrator.fromRecord(
    Object.fromEntries(Object.entries(migrationsOf(tables)).filter(([key]) => Number(key.slice(0, 4)) <= last))
  )

/** The loader of the first migration only (for tests that upgrade a database made by 0.1). */
export const firstMigrationLoaderFor = (tables: Tables): Migrator.Loader => loaderThroughFor(tables, 1)
