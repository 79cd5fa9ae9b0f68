/**
 * What the transitions write besides the events' own checkpoints, and what a written checkpoint does to a progress:
 * the checkpoint that parks a deployment whose stored data does not decode, and `applyCheckpoint`, the progress once
 * a checkpoint committed (`transitions.ts` re-exports both).
 *
 * @internal
 */
import type { JobPatch } from "../DeploymentStore.ts"
import { logText, storableRow } from "./storable.ts"
import type { JobProgress, Progress, Write } from "./transitionModels.ts"

// ---------------------------------------------------------------------------------------------------------------
// parking
// ---------------------------------------------------------------------------------------------------------------

/** What is wrong with a deployment's stored data (a `StoredDataCorrupt`): which job's value, which field, why. */
export interface Corruption {
  readonly job?: string | undefined
  readonly field: string
  readonly issue: string
  readonly tag: string
  readonly message: string
}

/**
 * The checkpoint that parks a deployment whose stored data does not decode, in whatever status it is: why, in the
 * row and in the error log, and the lease given up, so that no process claims it until it is repaired. It takes no
 * progress: the data that does not decode may be what a progress is made from (its state, its failure).
 */
export const parkCheckpoint = (at: number, corruption: Corruption): Write => ({
  at,
  deployment: {
    parked: {
      ...(corruption.job === undefined ? {} : { job: logText(corruption.job) }),
      field: logText(corruption.field),
      issue: logText(corruption.issue),
      at
    },
    releaseLease: true
  },
  jobs: [],
  errors: [storableRow({
    job: corruption.job,
    phase: "resume",
    tag: corruption.tag,
    message: corruption.message,
    detail: undefined,
    at
  })]
})

// ---------------------------------------------------------------------------------------------------------------
// applying a checkpoint
// ---------------------------------------------------------------------------------------------------------------

/** The progress once a checkpoint committed: its patches applied as a store applies them. */
export const applyCheckpoint = (progress: Progress, checkpoint: Write): Progress => {
  const { deployment } = checkpoint
  const jobs = checkpoint.jobs.length === 0 ? progress.jobs : progress.jobs.map((job, index) => {
    let patched = job
    for (const patch of checkpoint.jobs) if (patch.index === index) patched = applyJobPatch(patched, patch)
    return patched
  })
  return {
    ...progress,
    status: deployment.status ?? progress.status,
    currentJob: deployment.currentJob ?? progress.currentJob,
    failure: deployment.failure === undefined ? progress.failure : deployment.failure ?? undefined,
    jobs
  }
}

const applyJobPatch = (job: JobProgress, patch: JobPatch): JobProgress => ({
  ...job,
  status: patch.status,
  attempts: patch.attempts ?? job.attempts,
  startedAt: patch.startedAt ?? job.startedAt,
  finishedAt: patch.finishedAt === undefined ? job.finishedAt : patch.finishedAt ?? undefined,
  earlierAttempts: patch.earlierAttempts ?? job.earlierAttempts,
  hasInput: job.hasInput || patch.input !== undefined,
  hasOutput: job.hasOutput || patch.output !== undefined
})
