/**
 * The options of the runtime (`Actions.Options`): their ranges, their defaults, and their resolution into the
 * settings the runtime runs with. An option out of its range is an `InvalidOption` naming it (the layer fails when it
 * is built). The ranges are documented in `docs/limits.md`.
 *
 * @internal
 */
import { Duration, Effect, Result } from "effect"
import { InvalidOption } from "../ActionError.ts"
import type * as Actions from "../Actions.ts"
import { boolean, bound, type Check, describeValue, duration, integer, name, optionsObject } from "./checks.ts"

const hour = 3_600_000

/** Zero, as the lower bound of a duration. */
export const zeroBound = bound(0, "0 millis")
/** The shortest lease: shorter ones are lost to an ordinary pause (a GC, a slow round trip). */
export const minLeaseTtl = bound(100, "100 millis")
/** The shortest interval of a loop (heartbeat, recovery poll, remote await poll): shorter ones only burn CPU. */
export const minInterval = bound(10, "10 millis")
/** The longest duration of any option: no loop of the runtime needs to sleep longer. */
export const maxOptionDuration = bound(24 * hour, "24 hours")
/** The most deployments one recovery pass claims. */
export const maxBatch = 10_000
/** The most deployments one process runs at once (each holds about 22 KiB of heap and one id per heartbeat). */
export const maxInFlight = 100_000
/** The highest resume limit. */
export const maxResumes = 1_000_000

/** The settings the runtime runs with: `Actions.Options`, checked, with every default filled in. */
export interface Settings {
  readonly owner: string
  readonly recovery: {
    readonly leaseTtl: Duration.Duration
    readonly heartbeat: Duration.Duration
    readonly pollInterval: Duration.Duration
    readonly batch: number
    readonly maxInFlight: number
    readonly maxResumes: number
    readonly enabled: boolean
  }
  readonly awaitPollInterval: Duration.Duration
  readonly shutdownTimeout: Duration.Duration
}

/** The defaults of `Actions.Options` (the heartbeat's is a third of the lease TTL; the owner's is random). */
export const defaults = {
  leaseTtl: Duration.seconds(30),
  pollInterval: Duration.seconds(5),
  batch: 100,
  maxInFlight: 1000,
  maxResumes: 10,
  enabled: true,
  awaitPollInterval: Duration.seconds(1),
  shutdownTimeout: Duration.seconds(10)
} as const

/** Checks one option: the accepted value (or `fallback` when left out), or `InvalidOption` naming it. */
export const option = <A>(path: string, value: unknown, check: Check<A>, fallback: A): Result.Result<A, InvalidOption> => {
  if (value === undefined) return Result.succeed(fallback)
  const checked = check(value)
  return Result.isSuccess(checked)
    ? Result.succeed(checked.success)
    : Result.fail(
      new InvalidOption({ option: path, value: checked.failure.got ?? describeValue(value), expected: checked.failure.expected })
    )
}

/**
 * Checks the options of `Actions.make`/`Actions.layer` and fills in their defaults. The first invalid option fails
 * the whole with `InvalidOption`.
 */
export const resolveOptions = (options: Actions.Options | undefined): Effect.Effect<Settings, InvalidOption> =>
  Effect.suspend(() =>
    Effect.fromResult(Result.gen(function*() {
      const given = (yield* option("options", options, optionsObject, undefined)) ?? {}
      const owner = yield* option("owner", given.owner, name, undefined)
      const recovery = (yield* option("recovery", given.recovery, optionsObject, undefined)) ?? {}
      const leaseTtl = yield* option(
        "recovery.leaseTtl",
        recovery.leaseTtl,
        duration(minLeaseTtl, maxOptionDuration),
        defaults.leaseTtl
      )
      const heartbeat = yield* option(
        "recovery.heartbeat",
        recovery.heartbeat,
        duration(minInterval, {
          duration: leaseTtl,
          text: `recovery.leaseTtl (${Duration.format(leaseTtl)})`,
          exclusive: true
        }),
        Duration.divideUnsafe(leaseTtl, 3)
      )
      const pollInterval = yield* option(
        "recovery.pollInterval",
        recovery.pollInterval,
        duration(minInterval, maxOptionDuration),
        defaults.pollInterval
      )
      const batch = yield* option("recovery.batch", recovery.batch, integer(1, maxBatch), defaults.batch)
      const inFlight = yield* option(
        "recovery.maxInFlight",
        recovery.maxInFlight,
        integer(1, maxInFlight),
        defaults.maxInFlight
      )
      const resumes = yield* option("recovery.maxResumes", recovery.maxResumes, integer(1, maxResumes), defaults.maxResumes)
      const enabled = yield* option("recovery.enabled", recovery.enabled, boolean, defaults.enabled)
      const awaitPollInterval = yield* option(
        "awaitPollInterval",
        given.awaitPollInterval,
        duration(minInterval, maxOptionDuration),
        defaults.awaitPollInterval
      )
      const shutdownTimeout = yield* option(
        "shutdownTimeout",
        given.shutdownTimeout,
        duration(zeroBound, maxOptionDuration),
        defaults.shutdownTimeout
      )
      return {
        owner: owner ?? `effect-actions-${crypto.randomUUID()}`,
        recovery: {
          leaseTtl,
          heartbeat,
          pollInterval,
          batch,
          maxInFlight: inFlight,
          maxResumes: resumes,
          enabled
        },
        awaitPollInterval,
        shutdownTimeout
      }
    }))
  )
