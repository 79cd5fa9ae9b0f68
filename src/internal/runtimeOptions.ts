/**
 * The options of the runtime (`Actions.make`, `Actions.layer`, `Actions.layerMemory`): the lease owner, leases,
 * heartbeat and background recovery, remote awaiting, and shutdown. `Actions` exports them; `validateOptions.ts`
 * checks them and fills in their defaults.
 *
 * @internal
 */
import type { Duration } from "effect"

/**
 * Options of the runtime.
 *
 * **Details**
 *
 * Every option is checked when the runtime is built: a value out of its range fails `make` (and the layers) with
 * `InvalidOption`, naming the option and what it accepts, and nothing starts. The ranges and defaults are listed in
 * `docs/limits.md`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** This process's identity as a lease owner; unique per live process. Random by default. */
  readonly owner?: string
  /** Leases, heartbeat and background recovery. */
  readonly recovery?: {
    /** How long a lease holds without renewal; another process resumes a deployment after it. 30 s by default. */
    readonly leaseTtl?: Duration.Input
    /** How often leases are renewed; a third of `leaseTtl` by default. */
    readonly heartbeat?: Duration.Input
    /** How often the recovery loop looks for deployments to resume; 5 s by default. */
    readonly pollInterval?: Duration.Input
    /**
     * How many deployments one recovery pass claims at most; 100 by default. A pass that comes back full is followed
     * at once by another, so a backlog is drained at the speed the process resumes deployments, not at one batch
     * per poll interval.
     */
    readonly batch?: number
    /**
     * How many deployments this process runs at once at most, counting those it started; recovery passes claim
     * nothing beyond it (each in-flight deployment holds about 22 KiB of heap and one id in every heartbeat).
     * 1,000 by default. `start` is not limited by it.
     */
    readonly maxInFlight?: number
    /** Whether the recovery loop runs in the background; `true` by default (`resume()` works either way). */
    readonly enabled?: boolean
    /**
     * How many times a deployment may be resumed without reaching a new checkpoint; 10 by default (an integer from
     * 1 to 1,000,000). Past it, the job it is at fails with `ResumeLimitExceeded` and the deployment rolls back (in a
     * rollback, that rollback is recorded as failed and the earlier ones still run): the backstop for whatever stops
     * every run of a deployment.
     *
     * @since 0.2.0
     */
    readonly maxResumes?: number
  }
  /** How often `await` reads the store for a deployment that runs in another process; 1 s by default. */
  readonly awaitPollInterval?: Duration.Input
  /**
   * How long releasing the layer waits for local runs to stop (they stop at their next checkpoint or job
   * boundary); 10 s by default (a finite duration from 0 to 24 hours). Past it, the release completes anyway, and
   * the deployments still running here are resumed later from their last checkpoint, as after a crash.
   *
   * @since 0.2.0
   */
  readonly shutdownTimeout?: Duration.Input
}
