/**
 * What every store can hold, and making text fit it.
 *
 * PostgreSQL's `text` and `jsonb` cannot hold `\u0000`, and `jsonb` refuses an unpaired UTF-16 surrogate (UTF-8
 * cannot encode one; a `text` parameter would be silently changed to U+FFFD). The memory store refuses the same
 * values, so that what passes on it passes on PostgreSQL. Error log entries are made storable before they are
 * written (`storableText`, `storableJson`), so that recording a failure never fails because of its content; the
 * escapes keep it readable (`\u0000` becomes the six characters `\u0000`).
 *
 * @internal
 */
import { PersistenceError } from "../ActionError.ts"
import type { NewErrorRow } from "../DeploymentStore.ts"

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

// What a string needs before `unstorable` can match: a NUL or any surrogate. Most strings have neither, and this
// class is much cheaper to test than the lookarounds.
const suspect = /[\u0000\uD800-\uDFFF]/

/** Whether `text` holds a NUL or an unpaired surrogate. */
const hasUnstorable = (text: string): boolean => suspect.test(text) && unstorable.test(text)

const escapeUnit = (unit: string): string => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`
const unstorableGlobal = new RegExp(unstorable.source, "g")

/** Why a string cannot be stored, or `undefined` when it can. */
export const textIssue = (text: string): string | undefined => {
  const match = unstorable.exec(text)
  if (match === null) return undefined
  return match[0] === "\u0000"
    ? `contains \\u0000 at position ${match.index}`
    : `contains an unpaired UTF-16 surrogate (${escapeUnit(match[0])}) at position ${match.index}`
}

/** Whether a string can be stored as it is. */
export const isStorableText = (text: string): boolean => !hasUnstorable(text)

/** The string with what no store can hold escaped (`\u0000` and unpaired surrogates as `\uXXXX` text). */
export const storableText = (text: string): string =>
  hasUnstorable(text) ? text.replace(unstorableGlobal, escapeUnit) : text

/**
 * Where a JSON value holds a string (or an object key) no store can hold, as a path and an issue; `undefined` when
 * every string can be stored. Iterative, so that a deeply nested value cannot overflow the stack.
 */
export const jsonIssue = (value: unknown): string | undefined => isStorableJson(value) ? undefined : findIssue(value)

/**
 * A value to write that holds a string or a key no store can hold, as the store's `invalid` refusal of `operation`;
 * `undefined` when every string can be stored. Both stores check it before they write, so they refuse the same.
 */
export const unstorableValue = (operation: string, value: unknown): PersistenceError | undefined => {
  const issue = jsonIssue(value)
  return issue === undefined
    ? undefined
    : new PersistenceError({ reason: "invalid", operation, detail: `a value cannot be stored: ${issue}` })
}

/** Whether every string and key of a JSON value can be stored (a pass that builds no paths: the common case). */
export const isStorableJson = (value: unknown): boolean => {
  if (typeof value === "string") return !hasUnstorable(value)
  if (typeof value !== "object" || value === null) return true
  const stack: Array<unknown> = [value]
  while (stack.length > 0) {
    const current = stack.pop()
    if (typeof current === "string") {
      if (hasUnstorable(current)) return false
    } else if (Array.isArray(current)) {
      for (const item of current) stack.push(item)
    } else if (typeof current === "object" && current !== null) {
      for (const key in current) {
        if (hasUnstorable(key)) return false
        stack.push((current as Record<string, unknown>)[key])
      }
    }
  }
  return true
}

const findIssue = (value: unknown): string | undefined => {
  const stack: Array<{ readonly value: unknown; readonly path: string }> = [{ value, path: "" }]
  while (stack.length > 0) {
    const { path, value: current } = stack.pop()!
    if (typeof current === "string") {
      const issue = textIssue(current)
      if (issue !== undefined) return `${path === "" ? "(root)" : path}: ${issue}`
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) {
        stack.push({ value: current[index], path: `${path}[${index}]` })
      }
    } else if (typeof current === "object" && current !== null) {
      for (const key of Object.keys(current)) {
        const issue = textIssue(key)
        if (issue !== undefined) return `${path === "" ? "(root)" : path}: key ${issue}`
        stack.push({ value: (current as Record<string, unknown>)[key], path: path === "" ? key : `${path}.${key}` })
      }
    }
  }
  return undefined
}

/** A copy of a JSON value whose strings and keys are all storable (`storableText`); the value itself when they are. */
export const storableJson = <A>(value: A): A => {
  if (jsonIssue(value) === undefined) return value
  const copy = (current: unknown): unknown => {
    if (typeof current === "string") return storableText(current)
    if (Array.isArray(current)) return current.map(copy)
    if (typeof current === "object" && current !== null) {
      const out: Record<string, unknown> = {}
      for (const [key, item] of Object.entries(current)) out[storableText(key)] = copy(item)
      return out
    }
    return current
  }
  try {
    return copy(value) as A
  } catch {
    // nested too deeply for the stack: the value cannot be kept, its absence is said instead
    return "(a value nested too deeply to store)" as A
  }
}

/** The longest message an error log entry keeps, in characters; the rest is cut, and the cut said. */
export const maxMessageLength = 65_536

/** An error log text as every store can hold it: escaped (`storableText`) and at most `maxMessageLength` long. */
export const logText = (text: string): string => {
  const escaped = storableText(text)
  if (escaped.length <= maxMessageLength) return escaped
  // The result fits within the limit, suffix included, so that a text cut once is never cut again; the cut never
  // splits a surrogate pair (that would leave an unpaired half, which no store can hold).
  const suffix = (kept: number) => `… (${escaped.length - kept} more characters)`
  let kept = maxMessageLength - suffix(0).length
  const last = escaped.charCodeAt(kept - 1)
  if (last >= 0xd800 && last <= 0xdbff) kept--
  return `${escaped.slice(0, kept)}${suffix(kept)}`
}

/** An error log entry made storable: its texts escaped and cut (`logText`), its detail's strings escaped. */
export const storableRow = (row: NewErrorRow): NewErrorRow => ({
  ...row,
  tag: logText(row.tag),
  message: logText(row.message),
  detail: row.detail === undefined ? undefined : storableJson(row.detail)
})
