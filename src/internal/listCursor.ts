/**
 * The `list` cursor every store may use: an opaque text holding the position (creation time and id) of the last
 * deployment of a page. `DeploymentStore.encodeCursor`, `decodeCursor` and `invalidCursor` are its public forms.
 *
 * @internal
 */
import { Option } from "effect"
import { PersistenceError } from "../ActionError.ts"

/** Encodes a `list` position as an opaque cursor. */
export const encodeCursor = (row: { readonly createdAt: number; readonly id: string }): string =>
  JSON.stringify([row.createdAt, row.id])

/** Reads a cursor made by `encodeCursor`; `None` when it is not one. */
export const decodeCursor = (cursor: string): Option.Option<{ readonly createdAt: number; readonly id: string }> => {
  try {
    const value: unknown = JSON.parse(cursor)
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "number" && typeof value[1] === "string") {
      return Option.some({ createdAt: value[0], id: value[1] })
    }
  } catch {
    // not a cursor: reported as None below
  }
  return Option.none()
}

/** The error a store returns for a `list` cursor it did not make. */
export const invalidCursor = (cursor: string): PersistenceError =>
  new PersistenceError({
    reason: "invalid",
    operation: "list",
    detail: `not a cursor returned by list: ${JSON.stringify(cursor.slice(0, 100))}`
  })
