/**
 * The SQL store's `list` cursors: a position (creation time, with the microseconds a timestamp written by an
 * operator may have, or an infinite time, and the id) as an opaque cursor, and back.
 *
 * @internal
 */
import { Option } from "effect"
import { decodeCursor, encodeCursor } from "../DeploymentStore.ts"
import { isUuid } from "./sqlParams.ts"

/**
 * A `list` position: the creation time of the last row of a page and its id. The time is whole epoch milliseconds
 * plus the microseconds a timestamp written by an operator may have (`micros`, 0 to 999), or an infinite time
 * (which only an operator can write).
 */
export interface ListPosition {
  readonly createdAt: number
  readonly micros: number
  readonly id: string
}

/**
 * Encodes a position as an opaque cursor: `encodeCursor`'s `[createdAt, id]` for whole milliseconds (what the
 * store's own writes hold), `[createdAt, id, micros]` with microseconds, `["infinity" | "-infinity", id]` for an
 * infinite time, so that a page can end on any row.
 */
export const encodeListCursor = (position: ListPosition): string => {
  if (!Number.isFinite(position.createdAt)) {
    return JSON.stringify([position.createdAt > 0 ? "infinity" : "-infinity", position.id])
  }
  return position.micros === 0
    ? encodeCursor(position)
    : JSON.stringify([position.createdAt, position.id, position.micros])
}

/** Reads a cursor made by `encodeListCursor` (or by 0.1 of this store); `None` when it is not one. */
export const decodeListCursor = (cursor: string): Option.Option<ListPosition> => {
  const plain = decodeCursor(cursor)
  if (Option.isSome(plain)) {
    return Number.isSafeInteger(plain.value.createdAt) && isUuid(plain.value.id)
      ? Option.some({ ...plain.value, micros: 0 })
      : Option.none()
  }
  try {
    const value: unknown = JSON.parse(cursor)
    if (!Array.isArray(value) || typeof value[1] !== "string" || !isUuid(value[1])) return Option.none()
    const [createdAt, id, micros] = value as [unknown, string, unknown]
    if (value.length === 2 && (createdAt === "infinity" || createdAt === "-infinity")) {
      return Option.some({ createdAt: createdAt === "infinity" ? Infinity : -Infinity, micros: 0, id })
    }
    if (
      value.length === 3 && typeof createdAt === "number" && Number.isSafeInteger(createdAt) &&
      typeof micros === "number" && Number.isInteger(micros) && micros >= 0 && micros < 1000
    ) {
      return Option.some({ createdAt, micros, id })
    }
  } catch {
    // not a cursor: None below
  }
  return Option.none()
}
