/**
 * The connection pool every system of `bench/postgres.ts` runs on: the same `PgClient.layer` settings for all
 * three, and optionally a count of the round trips made through it.
 *
 * A round trip ends with the server's `ReadyForQuery` message (one per simple query, or per `Sync` of an extended
 * query, which is how `@effect/sql-pg` sends every statement, `BEGIN` and `COMMIT` included), so counting those
 * messages on every socket of the pool counts round trips.
 */
import { PgClient } from "@effect/sql-pg"
import { Layer, Redacted } from "effect"
import type { SqlClient } from "effect/sql"
import { readyForQuerySocket } from "../../test/support/postgres.ts"

/** The pool settings, shared by all systems. */
export interface PoolSettings {
  readonly url: string
  readonly maxConnections: number
}

/** A running count of the round trips of a pool. */
export interface RoundTrips {
  count: number
}

/** A socket to the server that adds one to `roundTrips` for every `ReadyForQuery` it receives. */
const countingSocket = (url: string, roundTrips: RoundTrips) =>
  readyForQuerySocket(url, () => {
    roundTrips.count++
  })

/**
 * The pool: `PgClient.layer` with `maxConnections`, the default idle timeout (60 s), statement preparation on
 * (the default), no multiplexing. With `roundTrips`, its sockets count round trips (for diagnostic passes only:
 * the timed batches use plain sockets).
 */
export const poolLayer = (
  settings: PoolSettings,
  roundTrips?: RoundTrips
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient> =>
  PgClient.layer({
    url: Redacted.make(settings.url),
    maxConnections: settings.maxConnections,
    connectTimeout: "5 seconds",
    ...(roundTrips === undefined ? {} : { stream: countingSocket(settings.url, roundTrips) })
  }).pipe(Layer.orDie)
