/**
 * The metrics the runtime records, as effect `Metric`s: deployments started and how they ended, job attempts and
 * failures, rollbacks, recovery (claims, resumes, leases lost), durations, and the deployments in flight.
 *
 * **When to use**
 *
 * Read this module to know what is recorded; export the values with any exporter that reads effect's metric
 * registry (`effect/observability`'s `OtlpMetrics` or `PrometheusMetrics`, see `docs/observability.md`), or read
 * one series in a program or a test with `Metric.value`.
 *
 * **Details**
 *
 * Names follow the OpenTelemetry conventions: lowercase, dotted, under the `effect_actions.` namespace; counts
 * of things under a plural (`effect_actions.deployments.started`), measurements of one thing under a singular
 * (`effect_actions.job.duration`). Durations are in seconds: each histogram carries the attribute
 * `unit: "seconds"`, which the OTLP exporter turns into the unit `s` and the Prometheus exporter leaves out of the
 * labels. Every series carries the attributes `application` and `action` (the registration's names); job and
 * rollback series add `job` (the job's name), job failures `error.type` (the failure's tag, as recorded in the
 * error log), and the deployment duration `outcome`.
 *
 * The values exported here are the metrics without those attributes: a series is the metric with its attribute
 * set, read as
 *
 * ```ts
 * Metric.value(Metric.withAttributes(Metrics.deploymentsSucceeded, { application: "shop", action: "deploy-app" }))
 * ```
 *
 * **Gotchas**
 *
 * - Metrics count what this process did: a deployment started here and resumed by another process counts as
 *   started here and succeeded (or rolled back) there. Sum over processes.
 * - Series live in the metric registry of the fibers that run the deployments: by default effect's one global
 *   registry (`Metric.MetricRegistry`). A program that provides another registry to the `Actions` layer and to its
 *   callers (a test, for isolation) finds its series there.
 * - Retries of `Job.retry` happen within one attempt: `jobAttempts` counts attempts as `JobContext.attempt` does
 *   (once per run of a job, one more after each resume), not the retries inside it.
 *
 * @since 0.3.0
 */
import { Metric } from "effect"

/** The attribute that tells the exporters the unit of a histogram. */
const seconds = { unit: "seconds" }

// ---------------------------------------------------------------------------------------------------------------
// boundaries

/**
 * The bucket boundaries of `jobDuration`, in seconds: from a millisecond to an hour.
 *
 * @since 0.3.0
 * @category boundaries
 */
export const jobDurationBoundaries: ReadonlyArray<number> = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600
]

/**
 * The bucket boundaries of `deploymentDuration`, in seconds: from ten milliseconds to six hours.
 *
 * @since 0.3.0
 * @category boundaries
 */
export const deploymentDurationBoundaries: ReadonlyArray<number> = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600
]

/**
 * The bucket boundaries of `checkpointDuration`, in seconds: from 100 microseconds (the memory store) to ten
 * seconds (a database that hardly answers).
 *
 * @since 0.3.0
 * @category boundaries
 */
export const checkpointDurationBoundaries: ReadonlyArray<number> = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
]

// ---------------------------------------------------------------------------------------------------------------
// deployments

/**
 * Deployments created and started by this process (attributes `application`, `action`); a deployment joined by
 * its key, or resumed, is not counted again.
 *
 * @since 0.3.0
 * @category deployments
 */
export const deploymentsStarted: Metric.Counter<number> = Metric.counter("effect_actions.deployments.started", {
  description: "Deployments created and started by this process",
  incremental: true
})

/**
 * Deployments whose run in this process ended `succeeded` (attributes `application`, `action`).
 *
 * @since 0.3.0
 * @category deployments
 */
export const deploymentsSucceeded: Metric.Counter<number> = Metric.counter("effect_actions.deployments.succeeded", {
  description: "Deployments whose run in this process ended succeeded",
  incremental: true
})

/**
 * Deployments whose run in this process ended `rolled_back`: a job failed (or the deployment was stopped) and
 * every rollback succeeded (attributes `application`, `action`).
 *
 * @since 0.3.0
 * @category deployments
 */
export const deploymentsRolledBack: Metric.Counter<number> = Metric.counter("effect_actions.deployments.rolled_back", {
  description: "Deployments whose run in this process ended rolled_back",
  incremental: true
})

/**
 * Deployments whose run in this process ended `rollback_failed`: at least one rollback failed, so resources may
 * have leaked (attributes `application`, `action`). Alert on it.
 *
 * @since 0.3.0
 * @category deployments
 */
export const deploymentsRollbackFailed: Metric.Counter<number> = Metric.counter(
  "effect_actions.deployments.rollback_failed",
  {
    description: "Deployments whose run in this process ended rollback_failed (a rollback failed)",
    incremental: true
  }
)

/**
 * Deployments whose run in this process ended `paused` by the failure policy `onFailure: "pause"`, waiting for an
 * operator (attributes `application`, `action`).
 *
 * @since 0.3.0
 * @category deployments
 */
export const deploymentsPaused: Metric.Counter<number> = Metric.counter("effect_actions.deployments.paused", {
  description: "Deployments whose run in this process ended paused, waiting for an operator",
  incremental: true
})

/**
 * Deployments this process claimed from the store because their lease had expired (attributes `application`,
 * `action`).
 *
 * @since 0.3.0
 * @category recovery
 */
export const deploymentsClaimed: Metric.Counter<number> = Metric.counter("effect_actions.deployments.claimed", {
  description: "Deployments claimed from the store by this process after their lease expired",
  incremental: true
})

/**
 * Claimed deployments this process resumed, forward or backward (attributes `application`, `action`).
 *
 * @since 0.3.0
 * @category recovery
 */
export const deploymentsResumed: Metric.Counter<number> = Metric.counter("effect_actions.deployments.resumed", {
  description: "Claimed deployments resumed by this process",
  incremental: true
})

/**
 * Local runs that stopped because this process lost their lease: another process took the deployment over, or a
 * fenced write was refused (attributes `application`, `action`).
 *
 * @since 0.3.0
 * @category recovery
 */
export const leasesLost: Metric.Counter<number> = Metric.counter("effect_actions.leases.lost", {
  description: "Local runs stopped because this process lost the deployment's lease",
  incremental: true
})

/**
 * Deployments running in this process now, started or resumed (attributes `application`, `action`).
 *
 * @since 0.3.0
 * @category deployments
 */
export const deploymentsInFlight: Metric.Gauge<number> = Metric.gauge("effect_actions.deployments.in_flight", {
  description: "Deployments running in this process now"
})

/**
 * How long a run of a deployment lasted in this process, from its start (or resume) to its end, in seconds
 * (attributes `application`, `action`, `outcome`: `succeeded`, `rolled_back`, `rollback_failed`, `paused`, or
 * `abandoned` when the local run stopped without finishing: shutdown, lease lost, store unavailable, corrupt data).
 *
 * @since 0.3.0
 * @category deployments
 */
export const deploymentDuration: Metric.Histogram<number> = Metric.histogram("effect_actions.deployment.duration", {
  description: "Duration of a deployment's run in this process, from its start or resume to its end",
  attributes: seconds,
  boundaries: deploymentDurationBoundaries
})

// ---------------------------------------------------------------------------------------------------------------
// jobs and rollbacks

/**
 * Attempts of a job: each run of its hooks and execute, retries of `Job.retry` included in one attempt
 * (attributes `application`, `action`, `job`).
 *
 * @since 0.3.0
 * @category jobs
 */
export const jobAttempts: Metric.Counter<number> = Metric.counter("effect_actions.jobs.attempts", {
  description: "Attempts of a job (retries of Job.retry happen within one attempt)",
  incremental: true
})

/**
 * Job failures that ended a deployment's forward run, so that it rolls back or pauses (attributes `application`,
 * `action`, `job`, `error.type`: the failure's tag, such as `JobTimeout`, `OutputValidationError`,
 * `ExecutionStopped` or the job's own error tag).
 *
 * @since 0.3.0
 * @category jobs
 */
export const jobFailures: Metric.Counter<number> = Metric.counter("effect_actions.jobs.failures", {
  description: "Job failures that ended a deployment's forward run",
  incremental: true
})

/**
 * How long an attempt of a job lasted, whatever its end, in seconds (attributes `application`, `action`, `job`).
 *
 * @since 0.3.0
 * @category jobs
 */
export const jobDuration: Metric.Histogram<number> = Metric.histogram("effect_actions.job.duration", {
  description: "Duration of an attempt of a job: hooks, execute and its retries",
  attributes: seconds,
  boundaries: jobDurationBoundaries
})

/**
 * Rollbacks run: a job's rollback functions, run once in a rollback step (attributes `application`, `action`,
 * `job`).
 *
 * @since 0.3.0
 * @category rollbacks
 */
export const rollbacksRun: Metric.Counter<number> = Metric.counter("effect_actions.rollbacks.run", {
  description: "Rollbacks of a job run",
  incremental: true
})

/**
 * Rollbacks that failed (a typed error or a defect), or that were recorded as failed without running because the
 * deployment was resumed too often at them (attributes `application`, `action`, `job`).
 *
 * @since 0.3.0
 * @category rollbacks
 */
export const rollbacksFailed: Metric.Counter<number> = Metric.counter("effect_actions.rollbacks.failed", {
  description: "Rollbacks of a job that failed",
  incremental: true
})

// ---------------------------------------------------------------------------------------------------------------
// persistence

/**
 * How long a checkpoint write took, as the run waited for it (its retries of transient store failures included),
 * in seconds (attributes `application`, `action`).
 *
 * @since 0.3.0
 * @category persistence
 */
export const checkpointDuration: Metric.Histogram<number> = Metric.histogram("effect_actions.checkpoint.duration", {
  description: "Duration of a fenced checkpoint write, retries included",
  attributes: seconds,
  boundaries: checkpointDurationBoundaries
})
