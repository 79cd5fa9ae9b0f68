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

/** The default table prefix. */
export const defaultPrefix = "effect_actions_"

/**
 * The longest suffix the store appends to the prefix (`job_runs_deployment_fkey`, 24 characters), so that every
 * name fits PostgreSQL's 63 bytes and is never silently truncated.
 */
const longestSuffix = 24
const maxPrefixLength = 63 - longestSuffix
const prefixPattern = /^[a-z_][a-z0-9_]*$/

/** The names of the store's tables and the migrations table, for one prefix. */
export interface Tables {
  readonly prefix: string
  readonly deployments: string
  readonly jobRuns: string
  readonly jobData: string
  readonly errors: string
  readonly migrations: string
}

/**
 * The table names for a prefix; throws when the prefix is not a plain identifier (lowercase letters, digits and
 * underscores, not starting with a digit, at most 39 characters). Lowercase keeps every name the same whether it is
 * quoted or not, and untouched by a client's `transformQueryNames`. Callers turn the throw into a defect: a bad
 * prefix is a programming error.
 */
export const tablesFor = (prefix: string = defaultPrefix): Tables => {
  if (!prefixPattern.test(prefix) || prefix.length > maxPrefixLength) {
    throw new Error(
      `SqlDeploymentStore: invalid table prefix ${JSON.stringify(prefix)}: use lowercase letters, digits and ` +
        `underscores (not starting with a digit), at most ${maxPrefixLength} characters`
    )
  }
  return {
    prefix,
    deployments: `${prefix}deployments`,
    jobRuns: `${prefix}job_runs`,
    jobData: `${prefix}job_data`,
    errors: `${prefix}errors`,
    migrations: `${prefix}migrations`
  }
}

/** The statuses a lease is held for; must match `DeploymentStore.isActive`. */
export const activeStatuses = "('running', 'rolling_back')"

const deploymentStatuses = "('running', 'succeeded', 'rolling_back', 'rolled_back', 'rollback_failed')"
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

/** The migration loader for a set of tables. */
export const loaderFor = (tables: Tables): Migrator.Loader =>
  Migrator.fromRecord({
    "0001_create_tables": createTables(tables)
  })
