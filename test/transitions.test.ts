import { assert, describe, it } from "@effect/vitest"
import { ActionError, type Deployment, type DeploymentStore } from "effect-actions"
import {
  appliesTo,
  applyCheckpoint,
  type Event,
  type JobProgress,
  next,
  type Next,
  owedRollbacks,
  parkCheckpoint,
  type Progress,
  type Refused,
  stoppedMessage,
  stopWhilePausing,
  type Transition,
  type Write
} from "../src/internal/transitions.ts"

type DeploymentStatus = Deployment.DeploymentStatus
type FailureRow = DeploymentStore.FailureRow

const id = "00000000-0000-4000-8000-000000000001"
const AT = 1_000

const job = (name: string, fields: Partial<JobProgress> = {}): JobProgress => ({
  name,
  status: "pending",
  attempts: 0,
  hasInput: false,
  hasOutput: false,
  hasRollback: true,
  ...fields
})

const failure: FailureRow = { job: "b", jobIndex: 1, phase: "execute", tag: "Boom", message: "b exploded" }

const succeededJob = (name: string, at: number) =>
  job(name, { status: "succeeded", attempts: 1, startedAt: at, finishedAt: at + 5, hasInput: true, hasOutput: true })

/** A three-job deployment in each status, at the second job where that makes sense. */
const fixtures: { readonly [S in DeploymentStatus]: Progress } = {
  running: {
    deploymentId: id,
    status: "running",
    currentJob: 1,
    failure: undefined,
    stopRequested: false,
    jobs: [succeededJob("a", 10), job("b", { status: "running", attempts: 1, startedAt: 20, hasInput: true }), job("c")]
  },
  paused: {
    deploymentId: id,
    status: "paused",
    currentJob: 1,
    failure,
    stopRequested: false,
    jobs: [
      succeededJob("a", 10),
      job("b", { status: "failed", attempts: 1, startedAt: 20, finishedAt: 30, hasInput: true }),
      job("c")
    ]
  },
  rolling_back: {
    deploymentId: id,
    status: "rolling_back",
    currentJob: 1,
    failure,
    stopRequested: false,
    jobs: [
      succeededJob("a", 10),
      job("b", { status: "failed", attempts: 1, startedAt: 20, finishedAt: 30, hasInput: true }),
      job("c")
    ]
  },
  succeeded: {
    deploymentId: id,
    status: "succeeded",
    currentJob: 2,
    failure: undefined,
    stopRequested: false,
    jobs: [succeededJob("a", 10), succeededJob("b", 20), succeededJob("c", 30)]
  },
  rolled_back: {
    deploymentId: id,
    status: "rolled_back",
    currentJob: 0,
    failure,
    stopRequested: false,
    jobs: [
      job("a", { status: "rolled_back", attempts: 1, startedAt: 10, finishedAt: 15, hasInput: true, hasOutput: true }),
      job("b", { status: "rolled_back", attempts: 1, startedAt: 20, finishedAt: 30, hasInput: true }),
      job("c")
    ]
  },
  rollback_failed: {
    deploymentId: id,
    status: "rollback_failed",
    currentJob: 0,
    failure,
    stopRequested: false,
    jobs: [
      job("a", { status: "rolled_back", attempts: 1, startedAt: 10, finishedAt: 15, hasInput: true, hasOutput: true }),
      job("b", { status: "rollback_failed", attempts: 1, startedAt: 20, finishedAt: 30, hasInput: true }),
      job("c")
    ]
  }
}

const statuses = Object.keys(fixtures) as ReadonlyArray<DeploymentStatus>

/** One event of each kind, fitting the fixtures above (the current job is the second one). */
const events: { readonly [T in Event["_tag"]]: Extract<Event, { _tag: T }> } = {
  Resumed: { _tag: "Resumed", at: AT },
  JobSucceeded: { _tag: "JobSucceeded", at: AT, index: 1, output: { n: 2 }, next: { input: { n: 2 } } },
  JobFailed: {
    _tag: "JobFailed",
    at: AT,
    index: 1,
    failure,
    onFailure: "rollback",
    stopped: false,
    logged: false,
    stopRequest: { id: "request-1", by: "owner-a" }
  },
  StopRequested: { _tag: "StopRequested", at: AT },
  RollbackStepDone: { _tag: "RollbackStepDone", at: AT, index: 1, rollback: { startedAt: AT - 2, finishedAt: AT - 1 } },
  RollbackStepFailed: {
    _tag: "RollbackStepFailed",
    at: AT,
    index: 1,
    rollback: { startedAt: AT - 2, finishedAt: AT - 1 },
    error: { tag: "Boom", message: "undo failed", detail: { job: "b" } }
  },
  RollbackFinished: { _tag: "RollbackFinished", at: AT },
  RollbackStepRefused: {
    _tag: "RollbackStepRefused",
    step: { _tag: "RollbackStepDone", at: AT, index: 1, rollback: { startedAt: AT - 2, finishedAt: AT - 1 }, state: { s: 1 } },
    refusal: { tag: "UnstorableValue", message: "the state cannot be stored" }
  },
  Retry: { _tag: "Retry", at: AT, input: { n: 9 } },
  Rollback: { _tag: "Rollback", at: AT },
  RetryRollback: { _tag: "RetryRollback", at: AT },
  Restart: { _tag: "Restart", at: AT }
}

const tags = Object.keys(events) as ReadonlyArray<Event["_tag"]>

/** What a test checks of a progress: everything but the per-job times. */
const summary = (progress: Progress) => ({
  status: progress.status,
  currentJob: progress.currentJob,
  failure: progress.failure,
  stopRequested: progress.stopRequested,
  jobs: progress.jobs.map((job) => `${job.status}/${job.attempts}${job.hasInput ? "/in" : ""}${job.hasOutput ? "/out" : ""}`)
})

interface Expected {
  readonly checkpoint: Write | undefined
  readonly progress: ReturnType<typeof summary>
}

const stopped: FailureRow = {
  job: "b",
  jobIndex: 1,
  phase: "execute",
  tag: "ExecutionStopped",
  message: `deployment ${id} was stopped by a user request`
}

/** The expected outcome of every event that applies to a fixture's status. */
const allowed: Partial<Record<`${DeploymentStatus} ${Event["_tag"]}`, Expected>> = {
  "running Resumed": {
    checkpoint: {
      at: AT,
      deployment: {},
      jobs: [{ index: 1, status: "running", attempts: 2, startedAt: AT, earlierAttempts: [{ attempt: 1, startedAt: 20 }] }],
      errors: []
    },
    progress: { ...summary(fixtures.running), jobs: ["succeeded/1/in/out", "running/2/in", "pending/0"] }
  },
  "running JobSucceeded": {
    checkpoint: {
      at: AT,
      deployment: { currentJob: 2 },
      jobs: [
        { index: 1, status: "succeeded", output: { n: 2 }, finishedAt: AT },
        { index: 2, status: "running", input: { n: 2 }, attempts: 1, startedAt: AT }
      ],
      errors: []
    },
    progress: {
      ...summary(fixtures.running),
      currentJob: 2,
      jobs: ["succeeded/1/in/out", "succeeded/1/in/out", "running/1/in"]
    }
  },
  "running JobFailed": {
    checkpoint: {
      at: AT,
      deployment: { status: "rolling_back", currentJob: 1, failure },
      jobs: [{ index: 1, status: "failed", finishedAt: AT }],
      errors: [{ job: "b", phase: "execute", tag: "Boom", message: "b exploded", detail: undefined, at: AT }]
    },
    progress: {
      ...summary(fixtures.running),
      status: "rolling_back",
      failure,
      jobs: ["succeeded/1/in/out", "failed/1/in", "pending/0"]
    }
  },
  "running StopRequested": {
    checkpoint: undefined,
    progress: { ...summary(fixtures.running), stopRequested: true }
  },
  "paused StopRequested": {
    checkpoint: {
      at: AT,
      deployment: { status: "rolling_back", failure: stopped },
      jobs: [],
      errors: [{ job: "b", phase: "execute", tag: "ExecutionStopped", message: stopped.message, detail: undefined, at: AT }]
    },
    progress: { ...summary(fixtures.paused), status: "rolling_back", failure: stopped }
  },
  "paused Retry": {
    checkpoint: {
      at: AT,
      deployment: { status: "running", failure: null },
      jobs: [{
        index: 1,
        status: "running",
        input: { n: 9 },
        attempts: 2,
        startedAt: AT,
        finishedAt: null,
        earlierAttempts: [{ attempt: 1, startedAt: 20, finishedAt: 30 }]
      }],
      errors: []
    },
    progress: {
      ...summary(fixtures.paused),
      status: "running",
      failure: undefined,
      jobs: ["succeeded/1/in/out", "running/2/in", "pending/0"]
    }
  },
  "paused Rollback": {
    checkpoint: { at: AT, deployment: { status: "rolling_back" }, jobs: [], errors: [] },
    progress: { ...summary(fixtures.paused), status: "rolling_back" }
  },
  "rolling_back Resumed": {
    checkpoint: undefined,
    progress: summary(fixtures.rolling_back)
  },
  "rolling_back RollbackStepDone": {
    checkpoint: {
      at: AT,
      deployment: { currentJob: 0 },
      jobs: [{ index: 1, status: "rolled_back", rollbackStartedAt: AT - 2, rollbackFinishedAt: AT - 1 }],
      errors: []
    },
    progress: { ...summary(fixtures.rolling_back), currentJob: 0, jobs: ["succeeded/1/in/out", "rolled_back/1/in", "pending/0"] }
  },
  "rolling_back RollbackStepFailed": {
    checkpoint: {
      at: AT,
      deployment: { currentJob: 0 },
      jobs: [{ index: 1, status: "rollback_failed", rollbackStartedAt: AT - 2, rollbackFinishedAt: AT - 1 }],
      errors: [{ job: "b", phase: "rollback", tag: "Boom", message: "rollback: undo failed", detail: { job: "b" }, at: AT - 1 }]
    },
    progress: {
      ...summary(fixtures.rolling_back),
      currentJob: 0,
      jobs: ["succeeded/1/in/out", "rollback_failed/1/in", "pending/0"]
    }
  },
  "rolling_back RollbackFinished": {
    checkpoint: { at: AT, deployment: { status: "rolled_back", releaseLease: true }, jobs: [], errors: [] },
    progress: { ...summary(fixtures.rolling_back), status: "rolled_back" }
  },
  "rolling_back RollbackStepRefused": {
    checkpoint: {
      at: AT,
      deployment: { currentJob: 0 },
      jobs: [{ index: 1, status: "rollback_failed", rollbackStartedAt: AT - 2, rollbackFinishedAt: AT }],
      errors: [{
        job: "b",
        phase: "rollback",
        tag: "UnstorableValue",
        message: "rollback: the state cannot be stored",
        detail: undefined,
        at: AT
      }]
    },
    progress: {
      ...summary(fixtures.rolling_back),
      currentJob: 0,
      jobs: ["succeeded/1/in/out", "rollback_failed/1/in", "pending/0"]
    }
  },
  "succeeded Restart": { checkpoint: undefined, progress: summary(fixtures.succeeded) },
  "rolled_back Restart": { checkpoint: undefined, progress: summary(fixtures.rolled_back) },
  "rollback_failed Restart": { checkpoint: undefined, progress: summary(fixtures.rollback_failed) },
  "rollback_failed RetryRollback": {
    checkpoint: { at: AT, deployment: { status: "rolling_back", currentJob: 1 }, jobs: [{ index: 1, status: "failed" }], errors: [] },
    progress: {
      ...summary(fixtures.rollback_failed),
      status: "rolling_back",
      currentJob: 1,
      jobs: ["rolled_back/1/in/out", "failed/1/in", "pending/0"]
    }
  }
}

const applied = (result: Transition): Next => {
  if (result._tag === "Refused") assert.fail(`refused (${result.reason}): ${result.detail}`)
  return result
}

const refused = (result: Transition): Refused => {
  if (result._tag === "Next") assert.fail(`applied: ${JSON.stringify(result.checkpoint)}`)
  return result
}

/** Freezes a value and everything in it: a transition that mutates its input throws (modules are strict). */
const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const item of Object.values(value)) deepFreeze(item)
  }
  return value
}
for (const fixture of Object.values(fixtures)) deepFreeze(fixture)
for (const event of Object.values(events)) deepFreeze(event)

describe("transitions", () => {
  describe("every status × every event", () => {
    for (const status of statuses) {
      for (const tag of tags) {
        const expected = allowed[`${status} ${tag}`]
        if (expected === undefined) {
          it(`refuses ${tag} of a ${status} deployment, for its status`, () => {
            const refusal = refused(next(fixtures[status], events[tag]))
            assert.strictEqual(refusal.reason, "status")
            assert.strictEqual(refusal.detail, `${tag} does not apply to a ${status} deployment`)
          })
        } else {
          it(`${tag} of a ${status} deployment writes its checkpoint and gives its next progress`, () => {
            const result = applied(next(fixtures[status], events[tag]))
            assert.deepStrictEqual(result.checkpoint, expected.checkpoint)
            assert.deepStrictEqual(summary(result.progress), expected.progress)
          })
        }
      }
    }

    it("the table of statuses each event applies to is the one the matrix tests", () => {
      for (const tag of tags) {
        assert.deepStrictEqual(
          [...appliesTo[tag]].sort(),
          statuses.filter((status) => allowed[`${status} ${tag}`] !== undefined).sort(),
          tag
        )
      }
    })

    it("the progress it gives is its input with the checkpoint applied", () => {
      for (const status of statuses) {
        for (const tag of tags) {
          const result = next(fixtures[status], events[tag])
          if (result._tag === "Refused" || result.checkpoint === undefined) continue
          assert.deepStrictEqual(result.progress, applyCheckpoint(fixtures[status], result.checkpoint), `${status} ${tag}`)
        }
      }
    })
  })

  describe("forward", () => {
    it("the last job's success ends the deployment with its output and gives the lease up", () => {
      const progress: Progress = { ...fixtures.running, currentJob: 2, jobs: [succeededJob("a", 10), succeededJob("b", 20), job("c", { status: "running", attempts: 1, startedAt: 30, hasInput: true })] }
      const result = applied(next(progress, { _tag: "JobSucceeded", at: AT, index: 2, output: { n: 3 }, state: { s: 2 } }))
      assert.deepStrictEqual(result.checkpoint, {
        at: AT,
        deployment: { state: { s: 2 }, status: "succeeded", output: { n: 3 }, releaseLease: true },
        jobs: [{ index: 2, status: "succeeded", output: { n: 3 }, finishedAt: AT }],
        errors: []
      })
      assert.strictEqual(result.progress.status, "succeeded")
    })

    it("a boundary checkpoint carries the changed state", () => {
      const result = applied(next(fixtures.running, { ...events.JobSucceeded, state: { s: 1 } }))
      assert.deepStrictEqual(result.checkpoint?.deployment, { state: { s: 1 }, currentJob: 2 })
    })

    it("refuses a success without the next job's input, and a last job's success with one", () => {
      const { next: _next, ...withoutNext } = events.JobSucceeded
      assert.strictEqual(refused(next(fixtures.running, withoutNext)).reason, "invalid")
      const last: Progress = { ...fixtures.running, currentJob: 2, jobs: [succeededJob("a", 10), succeededJob("b", 20), job("c", { status: "running", attempts: 1 })] }
      assert.strictEqual(refused(next(last, { ...events.JobSucceeded, index: 2 })).reason, "invalid")
    })

    it("refuses the success of a job that is not the running one", () => {
      assert.strictEqual(refused(next(fixtures.running, { ...events.JobSucceeded, index: 0 })).reason, "job")
      assert.strictEqual(refused(next(fixtures.running, { ...events.JobSucceeded, index: 2 })).reason, "job")
    })

    it("a failure under the pause policy pauses at the failed job and gives the lease up", () => {
      const result = applied(next(fixtures.running, { ...events.JobFailed, onFailure: "pause", state: { s: 1 } }))
      assert.deepStrictEqual(result.checkpoint?.deployment, {
        state: { s: 1 },
        status: "paused",
        currentJob: 1,
        releaseLease: true,
        stopRequest: { id: "request-1", by: "owner-a", operation: "stop", at: AT, reason: stopWhilePausing },
        failure
      })
      assert.strictEqual(result.progress.status, "paused")
    })

    it("a stop always rolls back, whatever the policy", () => {
      const stoppedFailure = applied(next(fixtures.running, { ...events.JobFailed, onFailure: "pause", stopped: true }))
      assert.strictEqual(stoppedFailure.progress.status, "rolling_back")
      const flagged = applied(next({ ...fixtures.running, stopRequested: true }, { ...events.JobFailed, onFailure: "pause" }))
      assert.strictEqual(flagged.progress.status, "rolling_back")
      const noted = applied(next(fixtures.running, events.StopRequested))
      assert.strictEqual(applied(next(noted.progress, { ...events.JobFailed, onFailure: "pause" })).progress.status, "rolling_back")
    })

    it("an error the job logged itself is not appended again", () => {
      assert.deepStrictEqual(applied(next(fixtures.running, { ...events.JobFailed, logged: true })).checkpoint?.errors, [])
    })

    it("the failure's detail and texts are made storable in the log", () => {
      const bad: FailureRow = { ...failure, message: "nul\u0000", detail: { k: "\u0000" } }
      const result = applied(next(fixtures.running, { ...events.JobFailed, failure: bad }))
      assert.deepStrictEqual(result.checkpoint?.errors, [
        { job: "b", phase: "execute", tag: "Boom", message: "nul\\u0000", detail: { k: "\\u0000" }, at: AT }
      ])
      assert.deepStrictEqual(result.checkpoint?.deployment.failure, bad)
    })

    it("a failure preparing the next job's input records the previous output and rolls back from that job", () => {
      const event: Event = { ...events.JobFailed, index: 2, failure: { ...failure, job: "c", jobIndex: 2, phase: "input" }, previous: { output: { n: 2 }, finishedAt: AT - 1 } }
      const result = applied(next(fixtures.running, event))
      assert.deepStrictEqual(result.checkpoint?.jobs, [
        { index: 1, status: "succeeded", output: { n: 2 }, finishedAt: AT - 1 },
        { index: 2, status: "failed", finishedAt: AT }
      ])
      assert.strictEqual(result.checkpoint?.deployment.currentJob, 1)
      assert.deepStrictEqual(summary(result.progress).jobs, ["succeeded/1/in/out", "succeeded/1/in/out", "failed/0"])
      assert.deepStrictEqual(owedRollbacks(result.progress), [{ index: 0, withOutput: true }, { index: 1, withOutput: true }])
      const paused = applied(next(fixtures.running, { ...event, onFailure: "pause" }))
      assert.strictEqual(paused.checkpoint?.deployment.currentJob, 2)
    })

    it("without the previous output (it could not be stored), the previous job stays running and is rolled back", () => {
      const result = applied(next(fixtures.running, { ...events.JobFailed, index: 2 }))
      assert.deepStrictEqual(result.checkpoint?.jobs, [{ index: 2, status: "failed", finishedAt: AT }])
      assert.strictEqual(result.checkpoint?.deployment.currentJob, 1)
      assert.deepStrictEqual(owedRollbacks(result.progress), [{ index: 0, withOutput: true }, { index: 1, withOutput: false }])
    })

    it("refuses a failure of a job that is neither the current one nor the next unstarted one", () => {
      assert.strictEqual(refused(next(fixtures.running, { ...events.JobFailed, index: 0 })).reason, "job")
      const started: Progress = { ...fixtures.running, jobs: [fixtures.running.jobs[0]!, fixtures.running.jobs[1]!, job("c", { status: "running" })] }
      assert.strictEqual(refused(next(started, { ...events.JobFailed, index: 2 })).reason, "job")
      const previous = { output: { n: 1 }, finishedAt: AT }
      assert.strictEqual(refused(next(fixtures.running, { ...events.JobFailed, previous })).reason, "job")
    })

    it("a resume of a job that never started keeps no earlier attempt", () => {
      const fresh: Progress = { ...fixtures.running, currentJob: 0, jobs: [job("a", { status: "running", attempts: 1 }), job("b"), job("c")] }
      assert.deepStrictEqual(applied(next(fresh, events.Resumed)).checkpoint?.jobs, [
        { index: 0, status: "running", attempts: 2, startedAt: AT }
      ])
    })
  })

  describe("backward", () => {
    const atFirst: Progress = { ...fixtures.rolling_back, currentJob: 0, jobs: [succeededJob("a", 10), job("b", { status: "rolled_back", attempts: 1, hasInput: true }), job("c")] }

    it("the first job's rollback ends the deployment rolled back, marking the jobs with nothing to undo", () => {
      const progress: Progress = { ...atFirst, jobs: [atFirst.jobs[0]!, job("b", { status: "failed", attempts: 1, hasInput: true, hasRollback: false }), job("c", { hasRollback: false })] }
      const result = applied(next(progress, { ...events.RollbackStepDone, index: 0, state: { s: 0 } }))
      assert.deepStrictEqual(result.checkpoint, {
        at: AT,
        deployment: { state: { s: 0 }, status: "rolled_back", releaseLease: true },
        jobs: [
          { index: 0, status: "rolled_back", rollbackStartedAt: AT - 2, rollbackFinishedAt: AT - 1 },
          { index: 1, status: "rolled_back" }
        ],
        errors: []
      })
      assert.deepStrictEqual(summary(result.progress).jobs, ["rolled_back/1/in/out", "rolled_back/1/in", "pending/0"])
    })

    it("ends rollback_failed when this or an earlier rollback failed", () => {
      assert.strictEqual(applied(next(atFirst, { ...events.RollbackStepFailed, index: 0 })).progress.status, "rollback_failed")
      const earlier: Progress = { ...atFirst, jobs: [atFirst.jobs[0]!, job("b", { status: "rollback_failed" }), job("c")] }
      assert.strictEqual(applied(next(earlier, { ...events.RollbackStepDone, index: 0 })).progress.status, "rollback_failed")
      assert.strictEqual(applied(next(earlier, events.RollbackFinished)).progress.status, "rollback_failed")
    })

    it("the terminal write alone marks a first job with nothing to undo rolled back", () => {
      const progress: Progress = { ...atFirst, jobs: [{ ...atFirst.jobs[0]!, hasRollback: false }, atFirst.jobs[1]!, atFirst.jobs[2]!] }
      assert.deepStrictEqual(applied(next(progress, events.RollbackFinished)).checkpoint?.jobs, [{ index: 0, status: "rolled_back" }])
    })

    it("a refused step of the first job, or of the terminal write, ends rollback_failed without the state", () => {
      const step = applied(next(atFirst, { ...events.RollbackStepRefused, step: { ...events.RollbackStepDone, index: 0, state: { s: 1 } } }))
      assert.deepStrictEqual(step.checkpoint?.deployment, { status: "rollback_failed", releaseLease: true })
      assert.deepStrictEqual(step.checkpoint?.jobs, [
        { index: 0, status: "rollback_failed", rollbackStartedAt: AT - 2, rollbackFinishedAt: AT }
      ])
      const finished = applied(next(atFirst, { ...events.RollbackStepRefused, step: { _tag: "RollbackFinished", at: AT + 5 } }))
      assert.deepStrictEqual(finished.checkpoint?.jobs, [
        { index: 0, status: "rollback_failed", rollbackStartedAt: AT + 5, rollbackFinishedAt: AT + 5 }
      ])
      assert.strictEqual(finished.checkpoint?.at, AT + 5)
      assert.strictEqual(finished.progress.status, "rollback_failed")
    })

    it("a refused failed step keeps the rollback's own error and adds the refusal", () => {
      const result = applied(next(fixtures.rolling_back, { ...events.RollbackStepRefused, step: events.RollbackStepFailed }))
      assert.deepStrictEqual(result.checkpoint?.errors.map((row) => row.message), [
        "rollback: undo failed",
        "rollback: the state cannot be stored"
      ])
    })

    it("refuses a step of a job above the current one, or of a job that did not run", () => {
      assert.strictEqual(refused(next(fixtures.rolling_back, { ...events.RollbackStepDone, index: 2 })).reason, "job")
      assert.strictEqual(refused(next(atFirst, { ...events.RollbackStepDone, index: 1 })).reason, "job")
      assert.strictEqual(
        refused(next(atFirst, { ...events.RollbackStepRefused, step: { ...events.RollbackStepDone, index: 1 } })).reason,
        "job"
      )
    })

    it("owes the rollbacks of the jobs that ran up to the current one, but of a job that failed without an input", () => {
      const progress: Progress = {
        ...fixtures.rolling_back,
        currentJob: 2,
        jobs: [succeededJob("a", 10), job("b", { status: "running", hasInput: true }), job("c", { status: "failed" })]
      }
      assert.deepStrictEqual(owedRollbacks(progress), [{ index: 0, withOutput: true }, { index: 1, withOutput: false }])
      assert.deepStrictEqual(owedRollbacks(fixtures.rolled_back), [])
    })
  })

  describe("operators", () => {
    it("a stop of a paused deployment has ExecutionStopped as its failure, in the phase of the failure it replaces", () => {
      assert.strictEqual(stoppedMessage(id), new ActionError.ExecutionStopped({ deploymentId: id }).message)
      const progress: Progress = { ...fixtures.paused, failure: { ...failure, phase: "post_hook" } }
      assert.strictEqual(applied(next(progress, events.StopRequested)).checkpoint?.deployment.failure?.phase, "post_hook")
      const noFailure: Progress = { ...fixtures.paused, failure: undefined }
      assert.strictEqual(applied(next(noFailure, events.StopRequested)).checkpoint?.deployment.failure?.phase, "execute")
    })

    it("refuses a retry when a job before the failed one has no output, and a retry without an input", () => {
      const progress: Progress = { ...fixtures.paused, currentJob: 2, jobs: [succeededJob("a", 10), job("b", { status: "running" }), job("c", { status: "failed" })] }
      const refusal = refused(next(progress, events.Retry))
      assert.strictEqual(refusal.reason, "job")
      assert.strictEqual(
        refusal.detail,
        `job "b" before the failed job has no recorded output (it is running): roll the deployment back instead`
      )
      assert.strictEqual(refused(next(fixtures.paused, { ...events.Retry, input: undefined })).reason, "input")
    })

    it("a retry of rollbacks gives each failed one the status it had, and restarts from the highest", () => {
      const progress: Progress = {
        ...fixtures.rollback_failed,
        jobs: [job("a", { status: "rollback_failed", hasOutput: true }), job("b", { status: "rolled_back" }), job("c", { status: "rollback_failed" })]
      }
      assert.deepStrictEqual(applied(next(progress, events.RetryRollback)).checkpoint, {
        at: AT,
        deployment: { status: "rolling_back", currentJob: 2 },
        jobs: [{ index: 0, status: "succeeded" }, { index: 2, status: "failed" }],
        errors: []
      })
      const none: Progress = { ...fixtures.rollback_failed, jobs: [job("a", { status: "rolled_back" }), job("b", { status: "rolled_back" }), job("c")] }
      assert.strictEqual(refused(next(none, events.RetryRollback)).reason, "nothing_to_retry")
    })
  })

  describe("adversarial input", () => {
    const indexed = [events.JobSucceeded, events.JobFailed] as const
    for (const index of [-1, 3, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      it(`refuses a job index of ${index}`, () => {
        for (const event of indexed) assert.strictEqual(refused(next(fixtures.running, { ...event, index })).reason, "invalid")
        assert.strictEqual(refused(next(fixtures.rolling_back, { ...events.RollbackStepDone, index })).reason, "invalid")
        assert.strictEqual(refused(next(fixtures.rolling_back, { ...events.RollbackStepFailed, index })).reason, "invalid")
        assert.strictEqual(
          refused(next(fixtures.rolling_back, { ...events.RollbackStepRefused, step: { ...events.RollbackStepDone, index } })).reason,
          "invalid"
        )
      })
    }

    for (const at of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      it(`refuses a time of ${at}, wherever it is`, () => {
        for (const status of statuses) {
          for (const tag of tags) {
            if (!appliesTo[tag].includes(status)) continue
            const event = events[tag]
            const bad: Event = event._tag === "RollbackStepRefused" ? { ...event, step: { ...event.step, at } } : { ...event, at }
            assert.strictEqual(refused(next(fixtures[status], bad)).reason, "invalid", `${status} ${tag}`)
          }
        }
        const times = { startedAt: AT, finishedAt: at }
        assert.strictEqual(refused(next(fixtures.rolling_back, { ...events.RollbackStepDone, rollback: times })).reason, "invalid")
        assert.strictEqual(refused(next(fixtures.rolling_back, { ...events.RollbackStepFailed, rollback: { startedAt: at, finishedAt: AT } })).reason, "invalid")
        const previous = { output: { n: 1 }, finishedAt: at }
        assert.strictEqual(refused(next(fixtures.running, { ...events.JobFailed, index: 2, previous })).reason, "invalid")
      })
    }

    it("refuses every event of a progress whose current job is not one of its jobs", () => {
      for (const currentJob of [-1, 3, 0.5, Number.NaN]) {
        for (const status of statuses) {
          for (const tag of tags) {
            if (!appliesTo[tag].includes(status)) continue
            const result = refused(next({ ...fixtures[status], currentJob }, events[tag]))
            assert.strictEqual(result.reason, "invalid", `${status} ${tag} at job ${currentJob}`)
          }
        }
      }
    })

    it("never changes the progress or the event it is given (they are frozen here)", () => {
      for (const status of statuses) for (const tag of tags) next(fixtures[status], events[tag])
      assert.strictEqual(fixtures.running.status, "running")
    })
  })
})

describe("parking", () => {
  it("parks with the reason in the row and the log, and gives the lease up", () => {
    const checkpoint = parkCheckpoint(AT, {
      job: "b",
      field: "output",
      issue: "bad\u0000",
      tag: "StoredDataCorrupt",
      message: "corrupt"
    })
    assert.deepStrictEqual(checkpoint, {
      at: AT,
      deployment: { parked: { job: "b", field: "output", issue: "bad\\u0000", at: AT }, releaseLease: true },
      jobs: [],
      errors: [{ job: "b", phase: "resume", tag: "StoredDataCorrupt", message: "corrupt", detail: undefined, at: AT }]
    })
    const noJob = parkCheckpoint(AT, { field: "state", issue: "x", tag: "StoredDataCorrupt", message: "corrupt" })
    assert.deepStrictEqual(noJob.deployment.parked, { field: "state", issue: "x", at: AT })
  })
})
