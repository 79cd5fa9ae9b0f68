/**
 * The append-only inserts the deployment store's statements share: error log entries (of one write, or of every
 * checkpoint of a batch) and history entries. `checkpoint`, `appendErrors` and `takeOver` append errors the same
 * way. Each reads the deployment's id from a row source named by the caller (`source`, the name of an earlier
 * `WITH` query returning `id`), so that it appends only when that query matched: a fenced update, a
 * compare-and-set.
 *
 * @internal
 */
import type { SqlClient, Statement } from "effect/sql"
import type { NewErrorRow, NewHistoryRow } from "../DeploymentStore.ts"
import type { Columns } from "./sqlColumns.ts"
import { jsonParam } from "./sqlParams.ts"
import type { Tables } from "./sqlTables.ts"

/** Builds the insert fragments for one client and one set of tables. */
export const makeAppends = (sql: SqlClient.SqlClient, tables: Tables, columns: Columns) => {
  const errors = sql(tables.errors)
  const history = sql(tables.history)
  const { at, atJson } = columns

  /** An `INSERT` of error log entries, in their order, for the deployment `source` returned. */
  const errorInserts = (source: string, entries: ReadonlyArray<NewErrorRow>) => {
    const from = sql.literal(source)
    return errorInsert(
      sql`${from}, jsonb_array_elements(${JSON.stringify(entries)}::jsonb) WITH ORDINALITY AS e(value, position)`,
      sql`${from}.id`,
      sql`e.position`
    )
  }

  /**
   * An `INSERT` of the error log entries of every deployment `source` returned (`id`, `ord`: its place in the
   * batch, `value`: its checkpoint as JSON, whose `errors` are its entries), in batch order then entry order.
   */
  const errorInsertsOfEach = (source: string) => {
    const from = sql.literal(source)
    return errorInsert(
      sql`${from} AS f, jsonb_array_elements(f.value->'errors') WITH ORDINALITY AS e(value, position)`,
      sql`f.id`,
      sql`f.ord, e.position`
    )
  }

  const errorInsert = (from: Statement.Fragment, deploymentId: Statement.Fragment, order: Statement.Fragment) =>
    sql`INSERT INTO ${errors} (deployment_id, job, phase, tag, message, detail, at)
  SELECT ${deploymentId}, e.value->>'job', e.value->>'phase', e.value->>'tag', e.value->>'message', e.value->'detail',
    ${atJson("e.value->>'at'")}
  FROM ${from}
  ORDER BY ${order}`

  /** An `INSERT` of one history entry for the deployment `source` returned (add `RETURNING` to count it). */
  const historyInsert = (source: string, entry: NewHistoryRow) => {
    const from = sql.literal(source)
    return sql`INSERT INTO ${history} (deployment_id, operation, outcome, "by", at, reason, job, message, detail)
  SELECT ${from}.id, ${entry.operation}::text, ${entry.outcome}::text, ${entry.by}::text, ${at(entry.at)},
    ${entry.reason ?? null}::text, ${entry.job ?? null}::text, ${entry.message ?? null}::text,
    ${jsonParam(entry.detail)}::jsonb
  FROM ${from}`
  }

  return { errorInserts, errorInsertsOfEach, historyInsert }
}
