/**
 * Recording the metrics of `Metrics.ts` from the runtime, cheaply: each series (a metric with its attribute set)
 * is built once per registration or job and kept, and each recording is one Effect operation, reading the clock
 * and the metric registry from the running fiber; the timings of attempts and checkpoints cost none, as their
 * callers already hold the fiber and an exit hook (`startAttempt`, `startCheckpoint`).
 *
 * @internal
 */
import { Clock, Effect, Exit, type Fiber, Metric } from "effect"
import type { Failure } from "../Deployment.ts"
import type { Snapshot } from "../DeploymentStore.ts"
import * as Metrics from "../Metrics.ts"
import { type CompiledJob, type Registration, registrationKey } from "./registration.ts"
import type { Outcome } from "./run.ts"

type Attributes = Metric.Metric.AttributeSet

/** A series of a counter: the same metric (its key is its name, description and attributes) with attributes. */
const counterOf = (metric: Metric.Counter<number>, attributes: Attributes): Metric.Counter<number> =>
  Metric.counter(metric.id, { description: metric.description, attributes, incremental: true })

const gaugeOf = (metric: Metric.Gauge<number>, attributes: Attributes): Metric.Gauge<number> =>
  Metric.gauge(metric.id, { description: metric.description, attributes })

const histogramOf = (
  metric: Metric.Histogram<number>,
  boundaries: ReadonlyArray<number>,
  attributes: Attributes
): Metric.Histogram<number> =>
  Metric.histogram(metric.id, { description: metric.description, attributes: { ...metric.attributes, ...attributes }, boundaries })

/** How a run ended, as the `outcome` attribute of the deployment duration. */
type OutcomeName = "succeeded" | "rolled_back" | "rollback_failed" | "paused" | "abandoned"

/** The series of one `(application, action)` pair. */
interface ActionSeries {
  readonly attributes: Attributes
  readonly started: Metric.Counter<number>
  readonly succeeded: Metric.Counter<number>
  readonly rolledBack: Metric.Counter<number>
  readonly rollbackFailed: Metric.Counter<number>
  readonly paused: Metric.Counter<number>
  readonly claimed: Metric.Counter<number>
  readonly resumed: Metric.Counter<number>
  readonly leasesLost: Metric.Counter<number>
  readonly inFlight: Metric.Gauge<number>
  readonly checkpoint: Metric.Histogram<number>
  readonly duration: Map<OutcomeName, Metric.Histogram<number>>
}

/** The series of one job of a registration. */
interface JobSeries {
  readonly attributes: Attributes
  readonly attempts: Metric.Counter<number>
  readonly duration: Metric.Histogram<number>
  readonly rollbacksRun: Metric.Counter<number>
  readonly rollbacksFailed: Metric.Counter<number>
}

/** Series by registration key: bounded by the pairs registered (claims only return registered pairs). */
const actionSeriesByKey = new Map<string, ActionSeries>()
/** The same, by registration: the hot path's lookup, without building the key. */
const actionSeriesByRegistration = new WeakMap<Registration, ActionSeries>()
const jobSeriesByJob = new WeakMap<CompiledJob, JobSeries>()

const actionSeries = (application: string, action: string): ActionSeries => {
  const key = registrationKey(application, action)
  let series = actionSeriesByKey.get(key)
  if (series === undefined) {
    const attributes = { application, action }
    series = {
      attributes,
      started: counterOf(Metrics.deploymentsStarted, attributes),
      succeeded: counterOf(Metrics.deploymentsSucceeded, attributes),
      rolledBack: counterOf(Metrics.deploymentsRolledBack, attributes),
      rollbackFailed: counterOf(Metrics.deploymentsRollbackFailed, attributes),
      paused: counterOf(Metrics.deploymentsPaused, attributes),
      claimed: counterOf(Metrics.deploymentsClaimed, attributes),
      resumed: counterOf(Metrics.deploymentsResumed, attributes),
      leasesLost: counterOf(Metrics.leasesLost, attributes),
      inFlight: gaugeOf(Metrics.deploymentsInFlight, attributes),
      checkpoint: histogramOf(Metrics.checkpointDuration, Metrics.checkpointDurationBoundaries, attributes),
      duration: new Map()
    }
    actionSeriesByKey.set(key, series)
  }
  return series
}

const seriesOf = (reg: Registration): ActionSeries => {
  let series = actionSeriesByRegistration.get(reg)
  if (series === undefined) {
    series = actionSeries(reg.application, reg.action.name)
    actionSeriesByRegistration.set(reg, series)
  }
  return series
}

const durationOf = (series: ActionSeries, outcome: OutcomeName): Metric.Histogram<number> => {
  let histogram = series.duration.get(outcome)
  if (histogram === undefined) {
    histogram = histogramOf(Metrics.deploymentDuration, Metrics.deploymentDurationBoundaries, {
      ...series.attributes,
      outcome
    })
    series.duration.set(outcome, histogram)
  }
  return histogram
}

const jobSeries = (reg: Registration, compiled: CompiledJob): JobSeries => {
  let series = jobSeriesByJob.get(compiled)
  if (series === undefined) {
    const attributes = { application: reg.application, action: reg.action.name, job: compiled.job.name }
    series = {
      attributes,
      attempts: counterOf(Metrics.jobAttempts, attributes),
      duration: histogramOf(Metrics.jobDuration, Metrics.jobDurationBoundaries, attributes),
      rollbacksRun: counterOf(Metrics.rollbacksRun, attributes),
      rollbacksFailed: counterOf(Metrics.rollbacksFailed, attributes)
    }
    jobSeriesByJob.set(compiled, series)
  }
  return series
}

/** Seconds from a monotonic start, read on the fiber's clock (so `TestClock` drives it). */
const secondsSince = (clock: Clock.Clock, started: bigint): number =>
  Number(clock.monotonicTimeNanosUnsafe() - started) / 1e9

/** Starts a stopwatch on the fiber's clock (so `TestClock` drives it): what it returns reads the seconds since. */
const stopwatch = (fiber: Fiber.Fiber<unknown, unknown>): () => number => {
  const clock = fiber.getRef(Clock.Clock)
  const started = clock.monotonicTimeNanosUnsafe()
  return () => secondsSince(clock, started)
}

/** The metrics of one run (`startRun`). */
export interface RunMetrics {
  /** Counts the run's outcome and records its duration. */
  readonly outcome: (outcome: Outcome) => void
  /** Takes the run out of the in-flight gauge; called when the run ends, however it ends. */
  readonly end: () => void
}

/**
 * Starts the metrics of a run on `fiber`: it counts a just created deployment (`created`) as started, and the run
 * in flight. Its outcome is counted by name (succeeded, rolled back, rollback failed, paused; a lost lease for a
 * run abandoned for it) with its duration.
 */
export const startRun = (reg: Registration, created: boolean, fiber: Fiber.Fiber<unknown, unknown>): RunMetrics => {
  const series = seriesOf(reg)
  const context = fiber.context
  const elapsed = stopwatch(fiber)
  if (created) series.started.updateUnsafe(1, context)
  series.inFlight.modifyUnsafe(1, context)
  const end = () => series.inFlight.modifyUnsafe(-1, context)
  const outcome = (outcome: Outcome) => {
    let name: OutcomeName
    switch (outcome._tag) {
      case "Succeeded": {
        name = "succeeded"
        series.succeeded.updateUnsafe(1, context)
        break
      }
      case "Failed": {
        name = outcome.error.status
        ;(name === "rollback_failed" ? series.rollbackFailed : series.rolledBack).updateUnsafe(1, context)
        break
      }
      case "Paused": {
        name = "paused"
        series.paused.updateUnsafe(1, context)
        break
      }
      case "Abandoned": {
        name = "abandoned"
        if (outcome.reason === "lease_lost") series.leasesLost.updateUnsafe(1, context)
        break
      }
    }
    durationOf(series, name).updateUnsafe(elapsed(), context)
  }
  return { outcome, end }
}

/**
 * Counts an attempt of a job that starts now on `fiber`, and returns what records its duration when it ends: for a
 * caller that already holds the fiber and an exit hook (`attempt.ts`), so the recording costs no Effect operation.
 */
export const startAttempt = (reg: Registration, compiled: CompiledJob, fiber: Fiber.Fiber<unknown, unknown>): () => void => {
  const series = jobSeries(reg, compiled)
  const context = fiber.context
  const elapsed = stopwatch(fiber)
  series.attempts.updateUnsafe(1, context)
  return () => series.duration.updateUnsafe(elapsed(), context)
}

/** Starts timing a checkpoint write on `fiber`; returns what records its duration when it ends. */
export const startCheckpoint = (reg: Registration, fiber: Fiber.Fiber<unknown, unknown>): () => void => {
  const histogram = seriesOf(reg).checkpoint
  const context = fiber.context
  const elapsed = stopwatch(fiber)
  return () => histogram.updateUnsafe(elapsed(), context)
}

/** Counts the failure of a job that ended the forward run, by the failure's tag. */
export const recordJobFailure = (reg: Registration, compiled: CompiledJob, failure: Failure): Effect.Effect<void> =>
  Effect.withFiberSucceed((fiber) => {
    // Failures are rare: their series (one per tag) are not kept.
    counterOf(Metrics.jobFailures, { ...jobSeries(reg, compiled).attributes, "error.type": failure.tag })
      .updateUnsafe(1, fiber.context)
  })

/** Counts a rollback step of a job: run (unless `skipped`), and failed. */
export const recordRollback = (
  reg: Registration,
  compiled: CompiledJob,
  exit: Exit.Exit<unknown, unknown>,
  skipped: boolean
): Effect.Effect<void> =>
  Effect.withFiberSucceed((fiber) => {
    const series = jobSeries(reg, compiled)
    if (!skipped) series.rollbacksRun.updateUnsafe(1, fiber.context)
    if (Exit.isFailure(exit)) series.rollbacksFailed.updateUnsafe(1, fiber.context)
  })

/** Counts the deployments a recovery pass claimed. */
export const recordClaims = (claimed: ReadonlyArray<Snapshot>): Effect.Effect<void> =>
  Effect.withFiberSucceed((fiber) => {
    for (const { deployment } of claimed) {
      actionSeries(deployment.application, deployment.action).claimed.updateUnsafe(1, fiber.context)
    }
  })

/** Counts a claimed deployment resumed. */
export const recordResume = (reg: Registration): Effect.Effect<void> =>
  Effect.withFiberSucceed((fiber) => seriesOf(reg).resumed.updateUnsafe(1, fiber.context))
