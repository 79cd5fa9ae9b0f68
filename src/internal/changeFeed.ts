/**
 * The deployment change feed of the operator event stream, made by polling `Actions.list` and `Actions.get`.
 *
 * The runtime has no change feed of its own yet. Until it has, each stream reads the first page of `list` (the
 * newest `window` deployments matching its filter) every `pollInterval`, and compares it with what it read before:
 * - a deployment seen for the first time, or whose status (`paused` included), current job, owner, lease epoch,
 *   stop request, pending operator request, parking or update time changed, is a `DeploymentChanged`;
 * - for such a change (except in the first read, which is the initial state), `get` reads its jobs, and each job
 *   whose status or attempts changed is a `JobChanged`;
 * - a deployment seen before and no longer on the page (it left the filter, or newer ones pushed it out) is read
 *   with `get` once more, so that its last change is reported (`DeploymentRemoved` when it was pruned), and then
 *   forgotten.
 * A read that fails (the store is unavailable) is logged and skipped: the next poll catches up. Each read costs one
 * `list` and at most one `get` per changed or departed deployment, so at most `2 × window` reads per poll.
 *
 * A runtime change feed (PostgreSQL `LISTEN`, the memory store's own notifications) can replace this module
 * without changing the events.
 *
 * @internal
 */
import { DateTime, type Duration, Effect, Option, Stream } from "effect"
import type { ActionsShape, ListOptions } from "../Actions.ts"
import type { Deployment, DeploymentStatus, JobStatus } from "../Deployment.ts"
import type { DeploymentEvent } from "../OperatorApi.ts"

/** How a feed polls and paces its heartbeats. */
export interface FeedOptions {
  readonly pollInterval: Duration.Duration
  readonly heartbeat: Duration.Duration
  /** How many deployments (the newest matching the filter) one poll reads. */
  readonly window: number
  /** How long one stream stays open; a client (`EventSource`) reconnects after it and gets the state again. */
  readonly maxDuration: Duration.Duration
}

/** The filter of a feed: `list`'s, without the page. */
export type FeedFilter = Pick<ListOptions, "statuses" | "application" | "action">

interface SeenJob {
  readonly status: JobStatus
  readonly signature: string
}

interface Seen {
  readonly status: DeploymentStatus
  readonly signature: string
  /** The jobs as last reported; undefined until the jobs were read. */
  jobs: Map<number, SeenJob> | undefined
}

const signature = (deployment: Deployment): string =>
  [
    deployment.status,
    deployment.currentJob,
    Option.getOrElse(deployment.owner, () => ""),
    deployment.leaseEpoch,
    deployment.stopRequested,
    Option.match(deployment.request, { onNone: () => "", onSome: (request) => request.id }),
    Option.isSome(deployment.parked),
    DateTime.toEpochMillis(deployment.updatedAt)
  ].join("|")

const jobSignature = (job: Deployment["jobs"][number]): string => `${job.status}|${job.attempts}`

/** The job changes of a deployment read with its jobs, recorded into `seen`. */
const jobChanges = (seen: Seen, deployment: Deployment): Array<DeploymentEvent> => {
  const events: Array<DeploymentEvent> = []
  const previous = seen.jobs
  const jobs = new Map<number, SeenJob>()
  for (const job of deployment.jobs) {
    const before = previous?.get(job.index)
    const current = { status: job.status, signature: jobSignature(job) }
    jobs.set(job.index, current)
    if (before !== undefined && before.signature === current.signature) continue
    events.push({
      _tag: "JobChanged",
      deploymentId: deployment.id,
      job,
      previousStatus: Option.fromUndefinedOr(before?.status)
    })
  }
  seen.jobs = jobs
  return events
}

const changed = (deployment: Deployment, before: Seen | undefined): DeploymentEvent => ({
  _tag: "DeploymentChanged",
  deployment,
  previousStatus: Option.fromUndefinedOr(before?.status)
})

/**
 * The changes of the deployments matching `filter`, as they are seen poll after poll, merged with heartbeats;
 * the stream ends after `maxDuration`.
 */
export const changes = (
  actions: ActionsShape,
  filter: FeedFilter,
  options: FeedOptions
): Stream.Stream<DeploymentEvent> =>
  Stream.suspend(() => {
    const seen = new Map<string, Seen>()
    let initial = true

    /**
     * Reads one deployment again with its jobs: the events of what changed since it was last seen, or `None` when
     * it could not be read (it is read again at the next poll).
     */
    const reread = Effect.fnUntraced(function*(id: string, before: Seen | undefined) {
      const read = yield* Effect.result(actions.get(id))
      if (read._tag === "Failure") {
        if (read.failure._tag === "DeploymentNotFound") {
          seen.delete(id)
          const removed: Array<DeploymentEvent> = before === undefined ? [] : [{ _tag: "DeploymentRemoved", deploymentId: id }]
          return Option.some(removed)
        }
        yield* Effect.logWarning(`operator event stream: reading deployment ${id} failed; trying again`, read.failure)
        return Option.none<Array<DeploymentEvent>>()
      }
      const deployment = read.success
      const sig = signature(deployment)
      const entry: Seen = { status: deployment.status, signature: sig, jobs: before?.jobs }
      seen.set(id, entry)
      const events: Array<DeploymentEvent> = before?.signature === sig ? [] : [changed(deployment, before)]
      return Option.some([...events, ...jobChanges(entry, deployment)])
    })

    const poll = Effect.gen(function*() {
      const page = yield* actions.list({ ...filter, limit: options.window })
      const events: Array<DeploymentEvent> = []
      const onPage = new Set<string>()
      for (const deployment of page.items) {
        onPage.add(deployment.id)
        const before = seen.get(deployment.id)
        const sig = signature(deployment)
        if (before !== undefined && before.signature === sig) continue
        if (initial) {
          // The initial state: the deployments as they are, without a read per deployment for its jobs.
          seen.set(deployment.id, { status: deployment.status, signature: sig, jobs: undefined })
          events.push(changed(deployment, undefined))
        } else {
          events.push(...Option.getOrElse(yield* reread(deployment.id, before), () => []))
        }
      }
      for (const [id, before] of [...seen]) {
        if (onPage.has(id)) continue
        // It left the view: its last change is reported, then it is forgotten (unless it could not be read).
        const last = yield* reread(id, before)
        if (Option.isSome(last)) {
          events.push(...last.value)
          seen.delete(id)
        }
      }
      initial = false
      return events
    }).pipe(
      Effect.catch((error) =>
        Effect.as(Effect.logWarning("operator event stream: reading deployments failed; trying again", error), [])
      )
    )

    const polls = Stream.tick(options.pollInterval).pipe(Stream.mapEffect(() => poll), Stream.flattenIterable)
    const heartbeats = Stream.tick(options.heartbeat).pipe(
      Stream.mapEffect(() => Effect.map(DateTime.now, (at): DeploymentEvent => ({ _tag: "Heartbeat", at })))
    )
    return Stream.merge(heartbeats, polls).pipe(Stream.interruptWhen(Effect.sleep(options.maxDuration)))
  })
