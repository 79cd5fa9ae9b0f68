/**
 * The SQL store's `list` reads an index for every filter (issue 7, class 10), created ranges included, and
 * `findRequests` reads the partial index of pending requests, `create` reads nothing, and the statements over many
 * ids (checkpoints written together, the heartbeat) read their rows by primary key: the plans PostgreSQL makes, and
 * runs, for the store's own statements, on a table populated enough for the planner's choice to mean something (and
 * on an empty one: the plan a connection may cache for good when its first statements ran there).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { SqlClient, type Statement } from "effect/sql"
import type { DeploymentStatus } from "../src/Deployment.ts"
import type { ListQuery } from "../src/DeploymentStore.ts"
import { makeColumns } from "../src/internal/sqlColumns.ts"
import { makeBatchStatement } from "../src/internal/sqlCheckpointBatch.ts"
import { makeCreateStatements } from "../src/internal/sqlCreate.ts"
import { makeClaimStatement, makeHeartbeatStatement } from "../src/internal/sqlLeases.ts"
import { makeListPlanner } from "../src/internal/sqlList.ts"
import { makeRequestsStatement } from "../src/internal/sqlRequests.ts"
import { tablesFor } from "../src/internal/sqlTables.ts"
import { makeWrites } from "../src/internal/sqlWrites.ts"
import { makeSnapshot } from "../src/testing.ts"
import { freshStore, PgLive } from "./support/postgres.ts"

const ROWS = 60_000
/** At most this many rows of deployments may be read for one page of 50 (a scan of the table reads 60,000). */
const MAX_ROWS_READ = 3_000
/** At most this many index entries may be gathered into bitmaps for one page (the planner may combine indexes). */
const MAX_BITMAP_ENTRIES = ROWS / 4

interface PlanNode {
  readonly "Node Type": string
  readonly "Relation Name"?: string
  readonly "Index Name"?: string
  readonly "Actual Rows"?: number
  readonly "Actual Loops"?: number
  readonly "Rows Removed by Filter"?: number
  readonly "Rows Removed by Index Recheck"?: number
  readonly Plans?: ReadonlyArray<PlanNode>
}

const nodesOf = (node: PlanNode): ReadonlyArray<PlanNode> => [node, ...(node.Plans ?? []).flatMap(nodesOf)]

const planOf = (value: unknown): PlanNode => {
  const parsed = typeof value === "string" ? JSON.parse(value) : value
  return (parsed as ReadonlyArray<{ readonly Plan: PlanNode }>)[0]!.Plan
}

/**
 * Rows a scan node read: those it returned and those it read and dropped (per-loop figures times loops); a bitmap
 * index scan reads index entries, counted apart.
 */
const rowsRead = (node: PlanNode): number =>
  node["Node Type"] === "Bitmap Index Scan" ? 0 : entriesRead(node)
const bitmapEntries = (node: PlanNode): number =>
  node["Node Type"] === "Bitmap Index Scan" ? entriesRead(node) : 0
const entriesRead = (node: PlanNode): number =>
  (node["Actual Loops"] ?? 1) *
  ((node["Actual Rows"] ?? 0) + (node["Rows Removed by Filter"] ?? 0) + (node["Rows Removed by Index Recheck"] ?? 0))

/** The reads of a plan that touch the store: scans of the deployments table and of the store's indexes. */
const scansOf = (nodes: ReadonlyArray<PlanNode>, deployments: string, prefix: string) =>
  nodes.filter((node) => node["Relation Name"] === deployments || node["Index Name"]?.startsWith(prefix) === true)

/** The indexes a plan's reads use, in plan order, without the store's prefix. */
const indexNames = (scans: ReadonlyArray<PlanNode>, prefix: string): ReadonlyArray<string> =>
  scans.flatMap((node) => node["Index Name"] === undefined ? [] : [node["Index Name"].slice(prefix.length)])

/** Asserts that a plan's reads scan no table and use `index` among others. */
const assertReadsIndex = (scans: ReadonlyArray<PlanNode>, prefix: string, index: string, what: string) => {
  assert.deepStrictEqual(scans.filter((node) => node["Node Type"] === "Seq Scan"), [], `${what}: no Seq Scan`)
  assert.include(indexNames(scans, prefix), index, what)
}

/** A plan's reads in one line, logged with `SHOW_PLANS=1`: for studying plans, not for testing them. */
const showPlan = (what: string, scans: ReadonlyArray<PlanNode>, prefix: string) =>
  process.env.SHOW_PLANS === "1"
    ? Effect.logInfo(
      `${what}: ${scans.map((node) => `${node["Node Type"]} ${node["Index Name"]?.slice(prefix.length) ?? ""}`.trim()).join(" + ")}; ` +
        `${scans.reduce((sum, node) => sum + rowsRead(node), 0)} rows read, ` +
        `${scans.reduce((sum, node) => sum + bitmapEntries(node), 0)} bitmap entries`
    )
    : Effect.void

/** The types of a statement's parameters, from the casts the store writes on each (`$1::text`). */
const parameterTypes = (text: string, count: number): string => {
  const types = new Map<number, string>()
  for (const match of text.matchAll(/\$(\d+)::([a-z0-9]+(?:\[\])?)/g)) types.set(Number(match[1]), match[2]!)
  return Array.from({ length: count }, (_, i) => {
    const type = types.get(i + 1)
    if (type === undefined) throw new Error(`parameter $${i + 1} has no cast in: ${text}`)
    return type
  }).join(", ")
}

/** A parameter as an SQL literal (the test's own values: strings, numbers, booleans, nulls). */
const sqlLiteral = (value: unknown): string => {
  if (value === null || value === undefined) return "NULL"
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value)
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'`
  throw new Error(`no literal for ${typeof value}`)
}

/** The combinations of filters `list` takes, each with the index that serves it in list order. */
const filters: ReadonlyArray<{
  readonly name: string
  readonly query: Omit<ListQuery, "limit" | "statuses">
  readonly index: string
}> = [
  { name: "no filter", query: {}, index: "deployments_list_idx" },
  { name: "application", query: { application: "app-7" }, index: "deployments_app_only_idx" },
  { name: "application and action", query: { application: "app-7", action: "act-1" }, index: "deployments_app_idx" },
  { name: "action", query: { action: "act-1" }, index: "deployments_action_idx" }
]
/** None; one without rows; two rare ones; the common one. */
const statusFilters: ReadonlyArray<ReadonlyArray<DeploymentStatus> | undefined> = [
  undefined,
  ["rollback_failed"],
  ["running", "rolling_back"],
  ["succeeded"]
]

/**
 * Runs a statement with `EXPLAIN ANALYZE` as planned for its parameters, and as the generic plan a prepared
 * statement may switch to; returns both plans' nodes.
 */
const explained = (
  raw: SqlClient.SqlClient,
  statement: Statement.Statement<Record<string, unknown>>,
  name: string
) =>
  Effect.gen(function*() {
    const [text, params] = statement.compile()
    const custom = yield* raw.unsafe<{ "QUERY PLAN": unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params)
    const generic = yield* raw.withTransaction(Effect.gen(function*() {
      yield* raw`SET LOCAL plan_cache_mode = force_generic_plan`
      yield* raw.unsafe(`PREPARE ${name}(${parameterTypes(text, params.length)}) AS ${text}`)
      // EXPLAIN EXECUTE takes no parameters of its own: the values as literals
      const rows = yield* raw.unsafe<{ "QUERY PLAN": unknown }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${name}(${params.map(sqlLiteral).join(", ")})`
      )
      yield* raw.unsafe(`DEALLOCATE ${name}`)
      return rows
    }))
    return [["custom", custom], ["generic", generic]] as const
  })

/**
 * 90 % succeeded, 7 % rolled back, 2 % running, 1 % rolling back, no rollback_failed; 40 applications, 6 actions;
 * created one second apart from 2024-01-01. Returns the creation time of the first, in epoch milliseconds.
 */
const populate = (prefix: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const deployments = sql(`${prefix}deployments`)
    yield* sql`INSERT INTO ${deployments} (id, application, action, fingerprint, status, current_job,
        lease_epoch, stop_requested, created_at, updated_at, jobs)
      SELECT gen_random_uuid(), 'app-' || (i % 40), 'act-' || (i % 6), '[]',
        CASE WHEN i % 100 < 90 THEN 'succeeded' WHEN i % 100 < 97 THEN 'rolled_back'
          WHEN i % 100 < 99 THEN 'running' ELSE 'rolling_back' END,
        0, 1, false, timestamptz '2024-01-01' + i * interval '1 second', timestamptz '2024-01-01' + i * interval '1 second',
        '[]'
      FROM generate_series(1, ${ROWS}::integer) AS i`
    yield* sql`ANALYZE ${deployments}`
    const [first] = yield* sql<{ at: number }>`SELECT floor(extract(epoch FROM min(created_at)) * 1000)::float8 AS at
      FROM ${deployments}`
    return first!.at
  })

/**
 * A fresh store's tables and what the store's statement builders need, for planning them: the store's bounds are a
 * subquery and an expression, which read no table, so the plain stand-ins below plan alike.
 */
const freshStatements = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { prefix } = yield* freshStore()
  const raw = sql.withoutTransforms()
  return {
    prefix,
    tables: tablesFor(prefix),
    raw,
    columns: makeColumns(raw),
    lockBound: raw.literal("TRUE"),
    serverNow: raw.literal("statement_timestamp()"),
    leaseUntil: (ttl: number) => raw`(statement_timestamp() + ${ttl}::float8 * interval '1 millisecond')`
  }
})

describe("SqlDeploymentStore plans (class 10)", () => {
  layer(PgLive, { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    it.effect("reads every filter combination of list from indexes, created ranges too, never scanning the table", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        const first = yield* populate(prefix)
        const tables = tablesFor(prefix)
        const raw = sql.withoutTransforms()
        const plan = makeListPlanner(raw, tables, makeColumns(raw))
        const middle = yield* store.list({ limit: ROWS / 2 })
        const cursor = Option.getOrThrow(Option.fromNullishOr(middle.next))
        // none; the newest five sixths, the oldest two thirds, the half between (the cursor is inside each)
        const ranges: ReadonlyArray<Pick<ListQuery, "createdAfter" | "createdBefore">> = [
          {},
          { createdAfter: first + (ROWS / 6) * 1000 },
          { createdBefore: first + (ROWS * 2 / 3) * 1000 },
          { createdAfter: first + (ROWS / 6) * 1000, createdBefore: first + (ROWS * 2 / 3) * 1000 }
        ]
        let prepared = 0
        for (const filter of filters) {
          for (const statuses of statusFilters) {
            for (const range of ranges) {
              for (const after of [undefined, cursor]) {
                const query: ListQuery = {
                  ...filter.query,
                  ...range,
                  limit: 50,
                  ...(statuses === undefined ? {} : { statuses }),
                  ...(after === undefined ? {} : { cursor: after })
                }
                const listed = plan(query)
                assert.strictEqual(listed._tag, "Statement")
                if (listed._tag !== "Statement") continue
                for (const [kind, rows] of yield* explained(raw, listed.statement, `list_plan_${prepared++}`)) {
                  const ranged = range.createdAfter !== undefined || range.createdBefore !== undefined
                  const what = `${filter.name}, statuses ${JSON.stringify(statuses)}, ${
                    ranged ? `created in ${JSON.stringify(range)}` : "any time"
                  }, ${after === undefined ? "first page" : "after a cursor"}, ${kind} plan`
                  const nodes = nodesOf(planOf(rows[0]!["QUERY PLAN"]))
                  const scans = scansOf(nodes, tables.deployments, prefix)
                  const indexes = indexNames(scans, prefix)
                  yield* showPlan(what, scans, prefix)
                  assert.deepStrictEqual(scans.filter((node) => node["Node Type"] === "Seq Scan"), [], `${what}: no Seq Scan`)
                  assert.isAbove(indexes.length, 0, `${what}: reads an index`)
                  assert.isAtMost(scans.reduce((sum, node) => sum + rowsRead(node), 0), MAX_ROWS_READ, `${what}: rows read`)
                  assert.isAtMost(
                    scans.reduce((sum, node) => sum + bitmapEntries(node), 0),
                    MAX_BITMAP_ENTRIES,
                    `${what}: bitmap entries`
                  )
                  if (statuses === undefined && ranged) {
                    // a range narrows the filter's own index to few rows: the planner may read them by bitmap and sort
                    // them (bounded by the rows-read and bitmap assertions above), or read the index in list order
                    assert.include([filter.index, "deployments_list_idx"], indexes[0], what)
                  } else if (statuses === undefined) {
                    // one index in list order, no sort: the filter's own, or the list index where the planner finds the
                    // filter common enough (its heap order matches the list index's, so fewer random reads)
                    assert.deepStrictEqual(scans.map((node) => node["Node Type"]), ["Index Scan"], what)
                    assert.include([filter.index, "deployments_list_idx"], indexes[0], what)
                    if (after === undefined) assert.deepStrictEqual(indexes, [filter.index], what)
                    assert.deepStrictEqual(nodes.filter((node) => node["Node Type"].includes("Sort")), [], `${what}: no sort`)
                  } else if (filter.name === "no filter" && statuses[0] !== "succeeded") {
                    // a rare status: its own range of the status index, one per status
                    assert.deepStrictEqual(indexes, statuses.map(() => "deployments_status_idx"), what)
                  }
                }
              }
            }
          }
        }
        // the query operators run for rollback_failed, with no such rows
        const page = yield* store.list({ statuses: ["rollback_failed"], limit: 50 })
        assert.deepStrictEqual(page.items, [])
      }), { timeout: 120_000 })

    it.effect("create inserts without reading the table, and finds an existing deployment through unique indexes, in plans made on an empty table", () =>
      Effect.gen(function*() {
        const deps = yield* freshStatements
        const { prefix, raw, tables } = deps
        const statements = makeCreateStatements({ ...deps, sql: raw })
        const plain = makeSnapshot()
        const keyed = makeSnapshot({ key: "order-1" })
        const scansIn = (rows: ReadonlyArray<{ readonly "QUERY PLAN": unknown }>) =>
          nodesOf(planOf(rows[0]!["QUERY PLAN"])).filter((node) => node["Node Type"].includes("Scan"))
        let prepared = 0
        // the table is empty and was never analyzed: the planner's least informed case
        for (const [name, snapshot] of [["by id", plain], ["by id, then key", keyed]] as const) {
          for (const [kind, rows] of yield* explained(raw, statements.existingOf(snapshot), `create_find_${prepared++}`)) {
            const what = `create's lookup ${name}, ${kind} plan`
            const scans = scansOf(scansIn(rows), tables.deployments, prefix)
            yield* showPlan(what, scans, prefix)
            assert.deepStrictEqual(scans.filter((node) => node["Node Type"] === "Seq Scan"), [], `${what}: no Seq Scan`)
            assert.deepStrictEqual(
              indexNames(scans, prefix),
              name === "by id" ? ["deployments_pkey"] : ["deployments_pkey", "deployments_key"],
              what
            )
          }
        }
        for (const [kind, rows] of yield* explained(raw, statements.insertDeployment(keyed, 30_000), `create_insert`)) {
          assert.deepStrictEqual(scansIn(rows), [], `create's insert, ${kind} plan: reads nothing`)
        }
        const [count] = yield* raw<{ n: number }>`SELECT count(*)::integer AS n FROM ${raw(tables.deployments)}`
        assert.strictEqual(count!.n, 1, "the custom plan's run inserted the row, the generic plan's found it there")
      }))

    it.effect("checkpoints written together and the heartbeat read their rows by primary key, on a young table and a large one", () =>
      Effect.gen(function*() {
        const deps = yield* freshStatements
        const { columns, prefix, raw, tables } = deps
        const batchOf = makeBatchStatement({ ...deps, sql: raw, writes: makeWrites(raw, tables, columns) })
        const heartbeatOf = makeHeartbeatStatement({ ...deps, sql: raw })
        const ids = Array.from({ length: 8 }, () => crypto.randomUUID())
        const checkpoints = ids.map((deploymentId, i) => ({
          fence: { deploymentId, owner: "owner-1", epoch: 1 },
          at: 1_700_000_000_000 + i,
          deployment: { currentJob: 1 },
          jobs: [
            { index: 0, status: "succeeded" as const, output: { n: i }, finishedAt: 1_700_000_000_000 + i },
            { index: 1, status: "running" as const, input: { n: i }, attempts: 1, startedAt: 1_700_000_000_000 + i }
          ],
          errors: []
        }))
        // A young table, as a process's first minutes leave it: 800 deployments with job records of 1.5 KB (about
        // 270 pages), never analyzed. Planned for 100 rows (what PostgreSQL guesses a function returns), the join of a
        // batch was a hash join over a scan of all of them (so in the benchmark, at 100 to 600 deployments). Then the
        // large table of the tests above.
        const deployments = raw(tables.deployments)
        yield* raw`INSERT INTO ${deployments} (id, application, action, fingerprint, status, current_job, lease_epoch,
            stop_requested, created_at, updated_at, jobs)
          SELECT gen_random_uuid(), 'app', 'act', '[]', 'running', 0, 1, false, now(), now(),
            jsonb_build_array(jsonb_build_object('index', 0, 'name', 'job-0', 'status', 'running', 'attempts', 1,
              'input', (SELECT string_agg(md5(i::text || '.' || g::text), '') FROM generate_series(1, 45) AS g)))
          FROM generate_series(1, 800) AS i`
        let prepared = 0
        for (const table of ["young", "large"] as const) {
          if (table === "large") {
            yield* raw`DELETE FROM ${deployments}`
            yield* populate(prefix)
          }
          const statements = [["checkpoints written together", batchOf(checkpoints)], [
            "heartbeat",
            heartbeatOf(ids, "owner-1", 30_000)
          ]] as const
          for (const [name, statement] of statements) {
            for (const [kind, rows] of yield* explained(raw, statement, `many_ids_${prepared++}`)) {
              const what = `${name}, ${table} table, ${kind} plan`
              const scans = scansOf(nodesOf(planOf(rows[0]!["QUERY PLAN"])), tables.deployments, prefix)
                .filter((node) => node["Node Type"].includes("Scan"))
              yield* showPlan(what, scans, prefix)
              // by primary key (the planner may combine it with the status index for the heartbeat's active rows)
              assertReadsIndex(scans, prefix, "deployments_pkey", what)
              assert.isAtMost(scans.reduce((sum, node) => sum + rowsRead(node), 0), ids.length, `${what}: rows read`)
            }
          }
        }
      }), { timeout: 120_000 })

    it.effect("claim reads the claim index for the definitions it runs only, where few of many deployments are runnable", () =>
      Effect.gen(function*() {
        const deps = yield* freshStatements
        const { prefix, raw, tables } = deps
        // 3 % of 60,000 running or rolling back, without a lease: every one of them claimable
        yield* populate(prefix)
        const claimOf = makeClaimStatement({ ...deps, sql: raw })
        const every = Array.from({ length: 40 * 6 }, (_, i) => ({
          application: `app-${i % 40}`,
          action: `act-${Math.floor(i / 40)}`,
          fingerprint: "[]"
        }))
        let prepared = 0
        // app-17's act-1 has 100 runnable deployments (every 600th); all definitions together, 1,800
        const runnables = [["every definition", every, 2_000], ["one definition", [every[57]!], 300]] as const
        for (const [name, runnable, mostRead] of runnables) {
          const statement = claimOf({ owner: "claimer", now: 0, leaseTtlMillis: 30_000, limit: 50, runnable })
          for (const [kind, rows] of yield* explained(raw, statement, `claim_plan_${prepared++}`)) {
            const what = `claim, ${name}, ${kind} plan`
            const scans = scansOf(nodesOf(planOf(rows[0]!["QUERY PLAN"])), tables.deployments, prefix)
              .filter((node) => node["Node Type"].includes("Scan"))
            yield* showPlan(what, scans, prefix)
            assertReadsIndex(scans, prefix, "deployments_claim_idx", what)
            // the definitions' runnable deployments, then the claimed ones again by primary key: for one definition,
            // never the others' (the join with the definitions alone was planned as a read of all 1,800)
            assert.isAtMost(scans.reduce((sum, node) => sum + rowsRead(node), 0), mostRead, `${what}: rows read`)
          }
        }
      }), { timeout: 120_000 })

    it.effect("findRequests reads the partial index of pending requests, never scanning the table", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { prefix, store } = yield* freshStore()
        yield* populate(prefix)
        const tables = tablesFor(prefix)
        const deployments = sql(tables.deployments)
        // a few pending requests at any time, as operators leave them: 30 paused deployments asked to retry
        yield* sql`UPDATE ${deployments} AS d SET status = 'paused', request = jsonb_build_object(
            'id', d.id::text, 'operation', 'retry', 'by', 'cli', 'at', floor(extract(epoch FROM d.created_at) * 1000))
          WHERE d.id IN (SELECT id FROM ${deployments} WHERE status = 'succeeded' ORDER BY id LIMIT 30)`
        yield* sql`ANALYZE ${deployments}`
        const raw = sql.withoutTransforms()
        const statementOf = makeRequestsStatement(raw, tables, makeColumns(raw))
        const every = Array.from({ length: 40 * 6 }, (_, i) => ({
          application: `app-${i % 40}`,
          action: `act-${Math.floor(i / 40)}`,
          fingerprint: "[]"
        }))
        const runnables = [["every definition", every], ["one definition", [every[7]!]]] as const
        let prepared = 0
        for (const [name, runnable] of runnables) {
          const statement = statementOf({ runnable, limit: 50 })
          assert.isDefined(statement)
          if (statement === undefined) continue
          for (const [kind, rows] of yield* explained(raw, statement, `requests_plan_${prepared++}`)) {
            const what = `findRequests, ${name}, ${kind} plan`
            const nodes = nodesOf(planOf(rows[0]!["QUERY PLAN"]))
            const scans = scansOf(nodes, tables.deployments, prefix)
            yield* showPlan(what, scans, prefix)
            assertReadsIndex(scans, prefix, "deployments_requests_idx", what)
            assert.isAtMost(scans.reduce((sum, node) => sum + rowsRead(node), 0), MAX_ROWS_READ, `${what}: rows read`)
            assert.isAtMost(scans.reduce((sum, node) => sum + bitmapEntries(node), 0), 100, `${what}: bitmap entries`)
          }
        }
        const found = yield* store.findRequests({ runnable: every, limit: 50 })
        assert.strictEqual(found.length, 30)
        const times = found.map((row) => row.request!.at)
        assert.deepStrictEqual(times, [...times].sort((a, b) => a - b))
      }), { timeout: 120_000 })
  })
})
