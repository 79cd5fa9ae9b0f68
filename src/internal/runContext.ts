/**
 * What a run's jobs run with, built from a stored snapshot: the run record (`makeRun`), the state cell of its action,
 * and the one `JobContext` of the run (the deployment, the job running now, its attempt, job data and the error
 * log), which the job functions see through the run's context.
 *
 * @internal
 */
import { type Clock, Context, Effect, Option, Schema } from "effect"
import { InvalidJobData, StoredDataCorrupt } from "../ActionError.ts"
import { ErrorEntry } from "../Deployment.ts"
import type { Snapshot } from "../DeploymentStore.ts"
import { JobContext, type JobContextShape } from "../JobContext.ts"
import { describeSchemaError, jsonCodec } from "./codec.ts"
import type { Registration } from "./registration.ts"
import {
  Abandon,
  abandonFor,
  abandonOnStoreFailure,
  corrupt,
  errorRow,
  isRefusal,
  now,
  type Handle,
  type Run,
  type RunnerEnv,
  type StateCell
} from "./run.ts"
import { storableText } from "./storable.ts"
import { progressOf } from "./transitions.ts"
import { retryTransient } from "./transient.ts"

/** Makes the state of a run from a stored snapshot. */
export const makeRun = (
  env: RunnerEnv,
  reg: Registration,
  snapshot: Snapshot,
  handle: Handle,
  state: unknown,
  clock: Clock.Clock
): Run => {
  const deployment = snapshot.deployment
  let cell: StateCell | undefined
  let context = reg.context
  if (reg.state !== undefined) {
    const stateCell: StateCell = {
      value: state,
      dirty: false,
      get: () => stateCell.value,
      set: (value) => {
        stateCell.value = value
        stateCell.dirty = true
      }
    }
    cell = stateCell
    context = Context.add(context, reg.state.definition.service, stateCell)
  }
  const run: Run = {
    env,
    reg,
    handle,
    deploymentId: deployment.id,
    context,
    cell,
    recorded: new WeakSet(),
    clock,
    annotations: {
      "deployment.id": deployment.id,
      "deployment.application": deployment.application,
      "deployment.action": deployment.action
    },
    progress: progressOf(snapshot, (index) => (reg.jobs[index]?.job.rollbacks.length ?? 0) > 0),
    current: deployment.currentJob,
    phase: "input",
    unsaved: undefined,
    failure: undefined,
    failureError: undefined,
    rollbackFailures: [],
    abandoned: undefined
  }
  run.context = Context.add(context, JobContext, makeJobContext(run))
  return run
}

/**
 * The `JobContext` of a run: one object for the whole run, whose job, index and attempt are those of the job running
 * (or being rolled back) when they are read, as jobs of a run never overlap.
 */
export const makeJobContext = (run: Run): JobContextShape => {
  const name = () => run.reg.jobs[run.current]!.job.name
  return {
    deploymentId: run.deploymentId,
    application: run.reg.application,
    action: run.reg.action.name,
    get job() {
      return name()
    },
    get jobIndex() {
      return run.current
    },
    get attempt() {
      return run.progress.jobs[run.current]?.attempts ?? 1
    },
    get idempotencyKey() {
      return `${run.deploymentId}/${name()}`
    },
    get fencingToken() {
      return run.handle.fence.epoch
    },
    get phase() {
      return run.phase
    },
    setData: (key, schema, value) => Effect.suspend(() => setJobData(run, name(), key, schema, value)),
    getData: (key, schema, options) => Effect.suspend(() => getJobData(run, options?.job ?? name(), key, schema)),
    recordError: (error) => recordJobError(run, error),
    errors: (options) =>
      Effect.flatMap(
        Effect.suspend(() =>
          abandonOnStoreFailure(
            run.env.store.errors(run.deploymentId, options?.currentJobOnly === true ? name() : undefined)
          )
        ),
        (rows) =>
          Effect.orDie(Effect.forEach(rows, (row) =>
            Effect.mapError(
              Schema.decodeUnknownEffect(ErrorEntry)(row),
              (error) => new Abandon("corrupt", corrupt(run.deploymentId, undefined, "error log", error))
            )))
      )
  }
}

/** `JobContext.setData`: the value encoded with its schema, and stored at once (a refusal is `InvalidJobData`). */
const setJobData = <A, I>(run: Run, job: string, key: string, schema: Schema.Codec<A, I>, value: A) =>
  Effect.flatMap(
    Effect.mapError(
      jsonCodec(schema).encode(value),
      (error) => new InvalidJobData({ deploymentId: run.deploymentId, job, key, issue: describeSchemaError(error).issue })
    ),
    (encoded) =>
      Effect.catch(retryTransient(run.env.store.setJobData(run.handle.fence, job, key, encoded)), (error) =>
        isRefusal(error)
          ? Effect.fail(
            new InvalidJobData({
              deploymentId: run.deploymentId,
              job,
              key,
              issue: `the store cannot hold it: ${storableText(error.detail)}`
            })
          )
          : Effect.die(abandonFor(error)))
  )

/** `JobContext.getData`: the stored value decoded with its schema (a value that does not decode is corrupt). */
const getJobData = <A, I>(run: Run, owner: string, key: string, schema: Schema.Codec<A, I>) =>
  Effect.flatMap(
    abandonOnStoreFailure(run.env.store.getJobData(run.deploymentId, owner, key)),
    (stored) =>
      Option.isNone(stored)
        ? Effect.succeedNone
        : Effect.mapBoth(jsonCodec(schema).decode(stored.value), {
          onFailure: (error) =>
            new StoredDataCorrupt({
              deploymentId: run.deploymentId,
              job: owner,
              field: `job data "${key}"`,
              issue: describeSchemaError(error).issue
            }),
          onSuccess: Option.some
        })
  )

/** `JobContext.recordError`: appends the error to the log at once, and remembers it so it is not logged twice. */
const recordJobError = (run: Run, error: unknown) =>
  Effect.flatMap(now, (at) => {
    if (typeof error === "object" && error !== null) run.recorded.add(error)
    const row = errorRow(run.reg.jobs[run.current]!, run.phase, error, at)
    const store = run.env.store
    // The row is storable already; a refusal left can only be its size: it is recorded without its detail.
    return Effect.catch(retryTransient(store.appendErrors(run.handle.fence, [row])), (error) =>
      isRefusal(error)
        ? abandonOnStoreFailure(store.appendErrors(run.handle.fence, [{ ...row, detail: undefined }]))
        : Effect.die(abandonFor(error)))
  })

