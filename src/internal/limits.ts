/**
 * The limits on names and keys, in one place: the runtime checks them where names enter (`register`, `start`),
 * and the SQL store's indexes are sized for them (a B-tree entry holds at most about 2,700 bytes). Documented in
 * `docs/limits.md`.
 *
 * @internal
 */

/** Longest application, action or job name, and process owner id, in UTF-8 bytes. */
export const maxNameBytes = 256

/** Longest deployment key (the caller's key of `start`), in UTF-8 bytes. */
export const maxKeyBytes = 1024

/** The number of UTF-8 bytes of a string. */
export const utf8Bytes = (text: string): number => Buffer.byteLength(text, "utf8")
