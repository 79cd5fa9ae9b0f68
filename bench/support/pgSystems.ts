/**
 * The three systems `bench/postgres.ts` compares, each running the same workload: a deployment of five no-op
 * steps, each passing on the same ~100-byte JSON value, on the same `@effect/sql-pg` pool settings.
 *
 * - `floor`: hand-written, exactly the six single-row transactions a 5-job deployment needs: one `INSERT` of the
 *   deployment, then five `UPDATE`s fenced by owner and epoch (`WHERE id = ? AND owner = ? AND epoch = ?`), each
 *   writing the value; one statement, one round trip, one commit each. No engine, no schema work.
 * - `actions`: effect-actions, an `Action` of five `Job`s on `SqlDeploymentStore` (`Actions.layer` with the
 *   recovery loop off; leases and their heartbeat as by default).
 * - `workflow`: effect/workflow, a `Workflow` of five `Activity`s on `ClusterWorkflowEngine` over
 *   `SingleRunner.layer()` (SQL message storage and SQL runner storage, default sharding settings).
 *
 * Every system records, through `Transitions`, the time from one step to the next: for `actions` and
 * `workflow`, the time between the starts of consecutive jobs (activities), measured inside the no-op; for
 * `floor`, the time of each `UPDATE` (from the end of the previous statement to the end of this one).
 */
import { Context, Effect, Layer, Schema, type Scope } from "effect"
import { ClusterWorkflowEngine, SingleRunner } from "effect/cluster"
import { Digest } from "effect/crypto"
import { SqlClient } from "effect/sql"
import { Activity, Workflow } from "effect/workflow"
import { Action, Actions, Job, SqlDeploymentStore } from "../../src/index.ts"

// ---------------------------------------------------------------------------------------------------------------
// the workload


/**
 * The store's checkpoint batching, from the environment (BENCH_PG_CHECKPOINT_BATCH, BENCH_PG_CHECKPOINT_WRITERS),
 * else the store's defaults: for comparing settings on one machine.
 */
const storeSettings = {
  ...(process.env.BENCH_PG_CHECKPOINT_BATCH ? { checkpointBatch: Number(process.env.BENCH_PG_CHECKPOINT_BATCH) } : {}),
  ...(process.env.BENCH_PG_CHECKPOINT_WRITERS ? { checkpointWriters: Number(process.env.BENCH_PG_CHECKPOINT_WRITERS) } : {})
}

/** The value every step receives and returns. */
export const Value = Schema.Struct({
  id: Schema.String,
  region: Schema.String,
  replicas: Schema.Number,
  image: Schema.String,
  tags: Schema.Array(Schema.String)
})
export type Value = typeof Value.Type

/** The value of deployment `id` (about 100 bytes of JSON for the ids the bench uses). */
export const valueFor = (id: string): Value => ({
  id,
  region: "eu-west-1",
  replicas: 3,
  image: "registry.example.test/shop:1.4.2",
  tags: ["web", "blue"]
})

/** Steps (jobs, activities, fenced updates) per deployment. */
export const stepCount = 5

/** Step-to-step latencies of one batch, in milliseconds. */
export class Transitions {
  readonly samples: Array<number> = []
  readonly #last = new Map<string, number>()

  /** Records a step of deployment `key` now; the time since its previous step is a sample. */
  step(key: string, last: boolean): void {
    const now = performance.now()
    const previous = this.#last.get(key)
    if (previous !== undefined) this.samples.push(now - previous)
    if (last) this.#last.delete(key)
    else this.#last.set(key, now)
  }

  /** Forgets every sample (after the warm-up). */
  reset(): void {
    this.samples.length = 0
    this.#last.clear()
  }
}

/** One deployment of the workload, given its id. */
export type Deploy = (id: string) => Effect.Effect<void, unknown>

/** A system under test. */
export interface System {
  readonly name: "floor" | "actions" | "workflow"
  readonly label: string
  /** Creates the system's tables; runs once per database. */
  readonly migrate: (pool: Layer.Layer<SqlClient.SqlClient>) => Effect.Effect<void, unknown>
  /** Empties the system's tables, so that every batch starts alike. */
  readonly truncate: Effect.Effect<void, unknown, SqlClient.SqlClient>
  /** Starts the system on `pool` for the scope; returns how to run one deployment. */
  readonly open: (
    pool: Layer.Layer<SqlClient.SqlClient>,
    transitions: Transitions
  ) => Effect.Effect<Deploy, unknown, Scope.Scope>
}

// ---------------------------------------------------------------------------------------------------------------
// floor: six single-statement transactions

const floorTable = "floor_deployments"

const floorOpen = (pool: Layer.Layer<SqlClient.SqlClient>, transitions: Transitions) =>
  Effect.gen(function*() {
    const sql = Context.get(yield* Layer.build(pool), SqlClient.SqlClient)
    const table = sql(floorTable)
    const owner = `floor-${crypto.randomUUID()}`
    const update = (id: string, job: number, value: Value) =>
      Effect.flatMap(
        sql`UPDATE ${table} SET current_job = ${job}::integer, status = ${job === stepCount ? "succeeded" : "running"},
  value = ${JSON.stringify(value)}::jsonb, updated_at = now()
WHERE id = ${id}::uuid AND owner = ${owner} AND epoch = ${1}::bigint RETURNING 1 AS held`,
        (rows) => rows.length === 1 ? Effect.void : Effect.fail(new Error(`floor: lease lost on ${id}`))
      )
    const deploy: Deploy = (key) =>
      Effect.gen(function*() {
        const id = crypto.randomUUID()
        const value = valueFor(key)
        yield* sql`INSERT INTO ${table} (id, owner, epoch, status, current_job, value)
VALUES (${id}::uuid, ${owner}, ${1}::bigint, 'running', 0, ${JSON.stringify(value)}::jsonb)`
        transitions.step(key, false)
        for (let job = 1; job <= stepCount; job++) {
          yield* update(id, job, value)
          transitions.step(key, job === stepCount)
        }
      })
    return deploy
  })

const floor: System = {
  name: "floor",
  label: "hand-written floor (6 statements)",
  migrate: (pool) =>
    Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql`CREATE TABLE ${sql(floorTable)} (
  id uuid PRIMARY KEY, owner text NOT NULL, epoch bigint NOT NULL, status text NOT NULL,
  current_job integer NOT NULL, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()
)`),
      pool
    ),
  truncate: Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE ${sql(floorTable)}`),
  open: floorOpen
}

// ---------------------------------------------------------------------------------------------------------------
// effect-actions

const actionsPrefix = "bench_"

const noOpJob = (index: number, transitions: Transitions) =>
  Job.make(`job-${index + 1}`, {
    input: Value,
    output: Value,
    execute: (input) =>
      Effect.sync(() => {
        transitions.step(input.id, index === stepCount - 1)
        return input
      })
  })

const benchAction = (transitions: Transitions) =>
  Action.make("bench-5", [
    noOpJob(0, transitions),
    noOpJob(1, transitions),
    noOpJob(2, transitions),
    noOpJob(3, transitions),
    noOpJob(4, transitions)
  ])

const actions: System = {
  name: "actions",
  label: "effect-actions (SqlDeploymentStore)",
  migrate: (pool) =>
    Effect.scoped(Layer.build(SqlDeploymentStore.layerMigrations({ prefix: actionsPrefix }).pipe(Layer.provide(pool)))),
  truncate: Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`TRUNCATE ${sql(`${actionsPrefix}history`)}, ${sql(`${actionsPrefix}errors`)}, ${sql(`${actionsPrefix}job_data`)},
  ${sql(`${actionsPrefix}deployments`)}`),
  open: (pool, transitions) =>
    Effect.gen(function*() {
      const runtime = Actions.layer({ recovery: { enabled: false } }).pipe(
        Layer.provide(SqlDeploymentStore.layer({ prefix: actionsPrefix, ...storeSettings })),
        Layer.provide(pool)
      )
      const service = Context.get(yield* Layer.build(runtime), Actions.Actions)
      const action = benchAction(transitions)
      yield* service.register(action)
      const deploy: Deploy = (id) => Effect.asVoid(service.execute(action, valueFor(id)))
      return deploy
    })
}

// ---------------------------------------------------------------------------------------------------------------
// effect/workflow on the SQL-backed cluster engine

const BenchWorkflow = Workflow.make("bench-5", {
  payload: Value,
  success: Value,
  idempotencyKey: (payload) => payload.id
})

const workflowHandler = (transitions: Transitions) =>
  BenchWorkflow.toLayer((payload) =>
    Effect.gen(function*() {
      let value = payload
      for (let index = 0; index < stepCount; index++) {
        const input = value
        value = yield* Activity.make({
          name: `job-${index + 1}`,
          success: Value,
          execute: Effect.sync(() => {
            transitions.step(input.id, index === stepCount - 1)
            return input
          })
        })
      }
      return value
    })
  )

/** The engine with the workflow registered, on `pool`: `ClusterWorkflowEngine` over `SingleRunner.layer()`. */
const workflowEngine = (pool: Layer.Layer<SqlClient.SqlClient>, transitions: Transitions) =>
  workflowHandler(transitions).pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provide(SingleRunner.layer()),
    Layer.provide(Digest.layerWebCrypto),
    Layer.provide(pool)
  )

const workflow: System = {
  name: "workflow",
  label: "effect/workflow (ClusterWorkflowEngine, SQL)",
  // SingleRunner's storage layers run their migrations when built.
  migrate: (pool) => Effect.scoped(Layer.build(workflowEngine(pool, new Transitions()))),
  truncate: Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE cluster_messages, cluster_replies`),
  open: (pool, transitions) =>
    Effect.gen(function*() {
      const context = yield* Layer.build(workflowEngine(pool, transitions))
      const deploy: Deploy = (id) => Effect.asVoid(Effect.provideContext(BenchWorkflow.execute(valueFor(id)), context))
      return deploy
    })
}

/** The systems, in the order each round runs them. */
export const systems: ReadonlyArray<System> = [floor, actions, workflow]
