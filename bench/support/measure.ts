/**
 * Timing and heap helpers of the benchmarks: wall-clock time per operation, medians and quartiles, forced garbage
 * collection, and the heap held per in-flight operation.
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Effect, type Fiber, Scheduler } from "effect"

/** Runs `operation` `count` times in sequence; returns the mean wall-clock time of one, in microseconds. */
export const timeSequential = <E, R>(
  count: number,
  operation: (index: number) => Effect.Effect<unknown, E, R>
): Effect.Effect<number, E, R> =>
  Effect.gen(function*() {
    const started = performance.now()
    for (let index = 0; index < count; index++) yield* operation(index)
    return ((performance.now() - started) * 1000) / count
  })

/**
 * A scheduler that counts the operations fibers evaluate: the run loop asks it whether to yield before each one
 * (except the one right after it decided to yield).
 */
class CountingScheduler extends Scheduler.MixedScheduler {
  operations = 0
  override shouldYield(fiber: Fiber.Fiber<unknown, unknown>): boolean {
    this.operations++
    return super.shouldYield(fiber)
  }
}

/**
 * Effect operations evaluated per unit of work, counted by the scheduler (deterministic, so unaffected by a noisy
 * machine): `program(n)` must do `n` units of work, its setup included; setup is cancelled out by subtracting
 * the count of `program(1)`.
 */
export const operationsPerUnit = async (
  count: number,
  program: (units: number) => Effect.Effect<unknown, unknown>
): Promise<number> => {
  const counted = async (units: number) => {
    const scheduler = new CountingScheduler()
    await Effect.runPromise(Effect.provideService(program(units), Scheduler.Scheduler, scheduler))
    return scheduler.operations
  }
  const one = await counted(1)
  return ((await counted(count + 1)) - one) / count
}

/** The `q` quantile (0 to 1) of samples, interpolated between the two nearest ranks. */
export const quantile = (samples: ReadonlyArray<number>, q: number): number => {
  const sorted = [...samples].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * q
  const lower = Math.floor(position)
  const upper = Math.ceil(position)
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower)
}

/** The median of samples. */
export const median = (samples: ReadonlyArray<number>): number => quantile(samples, 0.5)

/**
 * The garbage collector as a function: `globalThis.gc` under `node --expose-gc`, otherwise exposed at run time
 * through V8's flag (so `node bench/overhead.ts` needs no extra option).
 */
const collector = (): (() => void) => {
  const exposed = globalThis.gc
  if (exposed !== undefined) return () => exposed()
  setFlagsFromString("--expose-gc")
  // `runInNewContext` returns `any`; the flag above makes the new context's global `gc` the collector.
  return runInNewContext("gc") as () => void
}

let gcFunction: (() => void) | undefined

/** Runs full garbage collections until the heap stops shrinking; returns the heap in use, in bytes. */
export const settledHeap = (): Effect.Effect<number> =>
  Effect.sync(() => {
    gcFunction ??= collector()
    let used = Number.POSITIVE_INFINITY
    for (let pass = 0; pass < 5; pass++) {
      gcFunction()
      const now = process.memoryUsage().heapUsed
      if (now >= used - 1024) return now
      used = now
    }
    return used
  })

/**
 * What `heldInFlight` needs: how to start one operation that blocks until `release` runs, how many have reached
 * the block, and how to wait for one to finish.
 */
export interface InFlight<Id, StartError, AwaitError, R> {
  readonly start: (index: number) => Effect.Effect<Id, StartError, R>
  readonly arrived: () => number
  readonly release: Effect.Effect<void>
  readonly await: (id: Id) => Effect.Effect<unknown, AwaitError, R>
}

/**
 * Starts `count` operations that block, waits until every one is blocked, and returns the heap they hold, per
 * operation, in bytes (the settled heap with all of them in flight, minus the settled heap before the first
 * started). Then releases them, waits for all to finish, and measures what they still hold (records kept by an
 * in-memory store).
 */
export const heldInFlight = <Id, StartError, AwaitError, R>(
  count: number,
  inFlight: InFlight<Id, StartError, AwaitError, R>
): Effect.Effect<HeapPerUnit, StartError | AwaitError, R> =>
  Effect.gen(function*() {
    const ids: Array<Id | undefined> = new Array<Id | undefined>(count).fill(undefined)
    const before = yield* settledHeap()
    for (let index = 0; index < count; index++) ids[index] = yield* inFlight.start(index)
    while (inFlight.arrived() < count) yield* Effect.sleep("1 millis")
    const held = yield* settledHeap()
    yield* inFlight.release
    for (const id of ids) yield* inFlight.await(id!)
    const kept = yield* settledHeap()
    return { inFlight: (held - before) / count, finished: (kept - before) / count }
  })

/** Heap per operation, in bytes: while in flight, and what is still kept once it finished. */
export interface HeapPerUnit {
  readonly inFlight: number
  readonly finished: number
}
