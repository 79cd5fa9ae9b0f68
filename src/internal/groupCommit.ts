/**
 * Group commit: writes that arrive while earlier ones are in flight are written together, in one statement.
 *
 * A write joins the queue. When fewer than `writers` batches are in flight, a writer fiber starts and takes what
 * the queue holds (at most `maxBatch` writes, at most one per key) as one batch; when that batch is written, the
 * same writer takes the next, until the queue is empty. So a lone write goes out at once, alone (no timer, no added
 * latency), and under load each statement carries the writes that arrived during the previous one: the number of
 * statements and commits falls as concurrency grows.
 *
 * Each write gets its own result. A batch that fails for a reason that may belong to one of its writes (the
 * `retryAlone` predicate: bad data, a conflict) is written again one write at a time, so that one write's failure
 * is never another's. A failure that says nothing about the writes (a lost connection, a timeout, where the batch
 * may or may not have committed) is every write's.
 *
 * The writers are detached fibers: a caller interrupted while it waits leaves its write to finish (as an
 * interrupted statement may commit anyway), and never interrupts the other writes of its batch.
 *
 * @internal
 */
import { Cause, Deferred, Effect, Exit, Option } from "effect"

/** The batching of one kind of write. */
export interface GroupCommitOptions<W, A, E> {
  /** The most writes in one batch (at least 1). */
  readonly maxBatch: number
  /** The most batches in flight at once (at least 1). */
  readonly writers: number
  /** Writes of one key never share a batch (a deployment's id: one row is written once per statement). */
  readonly keyOf: (write: W) => string
  /** Writes one write alone. */
  readonly one: (write: W) => Effect.Effect<A, E>
  /** Writes a batch of at least two: one result per write, in order, each a success or that write's own failure. */
  readonly many: (writes: ReadonlyArray<W>) => Effect.Effect<ReadonlyArray<Exit.Exit<A, E>>, E>
  /** Whether a failure of `many` may belong to one write, so that the batch is written again one by one. */
  readonly retryAlone: (error: E) => boolean
}

interface Pending<W, A, E> {
  readonly write: W
  readonly done: Deferred.Deferred<A, E>
}

/** The write function of a group commit: each call's result is its own write's. */
export const makeGroupCommit = <W, A, E>(options: GroupCommitOptions<W, A, E>): (write: W) => Effect.Effect<A, E> => {
  const queue: Array<Pending<W, A, E>> = []
  let inFlight = 0

  /** Takes the next batch off the queue: in arrival order, at most one write per key. */
  const take = (): Array<Pending<W, A, E>> => {
    const batch: Array<Pending<W, A, E>> = []
    const keys = new Set<string>()
    let kept = 0
    for (let i = 0; i < queue.length; i++) {
      const pending = queue[i]!
      const key = options.keyOf(pending.write)
      if (batch.length < options.maxBatch && !keys.has(key)) {
        keys.add(key)
        batch.push(pending)
      } else {
        queue[kept++] = pending
      }
    }
    queue.length = kept
    return batch
  }

  const alone = (pending: Pending<W, A, E>) =>
    Effect.flatMap(Effect.exit(options.one(pending.write)), (exit) => Deferred.done(pending.done, exit))

  const writeBatch = (batch: ReadonlyArray<Pending<W, A, E>>): Effect.Effect<void> => {
    if (batch.length === 1) return Effect.asVoid(alone(batch[0]!))
    return Effect.flatMap(Effect.exit(options.many(batch.map((pending) => pending.write))), (exit) => {
      if (Exit.isSuccess(exit) && exit.value.length === batch.length) {
        return Effect.forEach(batch, (pending, i) => Deferred.done(pending.done, exit.value[i]!), { discard: true })
      }
      if (Exit.isFailure(exit)) {
        const error = Cause.findErrorOption(exit.cause)
        if (Option.isNone(error) || !options.retryAlone(error.value)) {
          return Effect.forEach(batch, (pending) => Deferred.done(pending.done, exit as Exit.Exit<never, E>), {
            discard: true
          })
        }
      }
      // A failure that may be one write's (or a result that does not fit the batch): each write on its own.
      return Effect.forEach(batch, alone, { concurrency: "unbounded", discard: true })
    })
  }

  /** A writer: writes batches until the queue is empty (the check and the leaving are one synchronous step). */
  const writer: Effect.Effect<void> = Effect.suspend(() => {
    const batch = take()
    if (batch.length === 0) {
      inFlight--
      return Effect.void
    }
    return Effect.andThen(writeBatch(batch), writer)
  })

  return (write) =>
    Effect.suspend(() => {
      const done = Deferred.makeUnsafe<A, E>()
      queue.push({ write, done })
      if (inFlight < options.writers) {
        inFlight++
        return Effect.andThen(Effect.forkDetach(writer), Deferred.await(done))
      }
      return Deferred.await(done)
    })
}
