/**
 * What the SQL store's statement parameters may hold: the refusals checked before a statement is sent (text and
 * values PostgreSQL cannot store exactly, lease durations that are not ones), ids that can name a stored deployment,
 * and JSON values as `jsonb` parameters.
 *
 * @internal
 */
import { PersistenceError } from "../ActionError.ts"
import type { FailureRow, Json, Runnable } from "../DeploymentStore.ts"
import { textIssue } from "./storable.ts"

// ---------------------------------------------------------------------------
// refusals
// ---------------------------------------------------------------------------

/**
 * Text that would not be stored exactly: PostgreSQL refuses `\u0000` in `text`, and the driver would encode an
 * unpaired surrogate as U+FFFD, silently. The named values are checked before the statement is sent; the first
 * issue is the store's `invalid` refusal.
 */
export const unstorableText = (
  operation: string,
  values: Readonly<Record<string, string | undefined>>
): PersistenceError | undefined => {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue
    const issue = textIssue(value)
    if (issue !== undefined) {
      return new PersistenceError({ reason: "invalid", operation, detail: `${name} cannot be stored: ${issue}` })
    }
  }
  return undefined
}

/** Why a lease duration given to the store is not one, or `undefined`. */
export const ttlIssue = (ttl: number): string | undefined =>
  Number.isFinite(ttl) && ttl >= 0 ? undefined : `leaseTtlMillis must be a finite number >= 0, got ${ttl}`

/** The refusal of a lease duration that is not one. */
export const invalidTtl = (operation: string, issue: string): PersistenceError =>
  new PersistenceError({ reason: "invalid", operation, detail: issue })

/** Whether every value is text the store can hold (else no stored row can match it). */
export const allStorable = (...values: ReadonlyArray<string | undefined>): boolean =>
  values.every((value) => value === undefined || textIssue(value) === undefined)

/**
 * The definitions of a claim, a mismatch report or a search for requests that a stored deployment can be of: a name
 * or fingerprint PostgreSQL cannot store (`\u0000`, a lone surrogate) is no stored deployment's, and would fail the
 * statement, so it is left out (the memory store finds nothing for it either).
 */
export const storableRunnable = (runnable: ReadonlyArray<Runnable>): ReadonlyArray<Runnable> =>
  runnable.every((r) => allStorable(r.application, r.action, r.fingerprint))
    ? runnable
    : runnable.filter((r) => allStorable(r.application, r.action, r.fingerprint))

// ---------------------------------------------------------------------------
// parameters
// ---------------------------------------------------------------------------

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether an id can be stored in a `uuid` column (any other id names no stored deployment). */
export const isUuid = (id: string): boolean => uuidPattern.test(id)

/** A JSON value as a `jsonb` parameter: its JSON text, or SQL `NULL` when absent. */
export const jsonParam = (value: Json | FailureRow | undefined): string | null => {
  if (value === undefined) return null
  const text = JSON.stringify(value)
  if (typeof text !== "string") throw new Error(`not a JSON value: ${String(value)}`)
  return text
}
