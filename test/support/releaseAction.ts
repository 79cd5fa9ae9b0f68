/**
 * The actions of the 0.3 upgrade fixture (`test/fixtures/release-0.3-rows.json`): what made its rows, and what the
 * upgrade test resumes them with after migrating.
 *
 * Three jobs (`reserve`, `configure`, `finish`) and a state. Each deployment's input says how it behaves:
 * `configure` fails (`fail`), pauses the deployment when the action's policy is `pause` (`fail` too), or waits on
 * `block` (`block`); `reserve`'s rollback fails (`failRollback`) or waits on `block` (`blockRollback`). The
 * generator passes a `block` that never ends, and shuts the runtime down while those deployments wait, so that they
 * are left `running` or `rolling_back` with their lease released, as after a process died; the upgrade test passes
 * one that ends at once, so that they go on. Job names (hence fingerprints) are the same in both.
 */
import { Effect, Schema } from "effect"
import { Action, Job, JobContext, State } from "../../src/index.ts"

/** What a deployment of the fixture does, by input. */
export const Mode = Schema.Literals(["ok", "fail", "block", "failRollback", "blockRollback"])

/** The input of every job. */
export const Request = Schema.Struct({ name: Schema.String, mode: Mode })

/** The state each deployment keeps: the jobs that have run, in order. */
export const Progress = State.make("Progress", {
  schema: Schema.Struct({ ran: Schema.Array(Schema.String) }),
  initial: { ran: [] }
})

/** The fixture's error. */
export class ConfigureFailed extends Schema.TaggedError<ConfigureFailed>()("ConfigureFailed", {
  name: Schema.String
}) {}

const ran = (job: string) => Progress.update((progress) => ({ ran: [...progress.ran, job] }))

/** The fixture's actions: `provision` (rolls back on failure) and `provision-paused` (pauses on failure). */
export const makeReleaseActions = (block: Effect.Effect<void>) => {
  const reserve = Job.make("reserve", {
    input: Request,
    output: Request,
    execute: (request) =>
      Effect.gen(function*() {
        const context = yield* JobContext.JobContext
        yield* context.setData("address", Schema.String, `10.0.0.${request.name.length}`)
        yield* ran("reserve")
        return request
      }),
    rollback: ({ input }) =>
      Effect.gen(function*() {
        yield* ran("reserve:rollback")
        if (input.mode === "blockRollback") yield* block
        if (input.mode === "failRollback") return yield* Effect.die(new Error(`cannot release ${input.name}`))
      })
  })
  const configure = Job.make("configure", {
    input: Request,
    output: Request,
    error: ConfigureFailed,
    execute: (request) =>
      Effect.gen(function*() {
        yield* ran("configure")
        if (request.mode === "block") yield* block
        if (request.mode === "ok" || request.mode === "block") return request
        return yield* new ConfigureFailed({ name: request.name })
      })
  })
  const finish = Job.make("finish", {
    input: Request,
    output: Schema.Struct({ name: Schema.String, done: Schema.Boolean }),
    execute: (request) => Effect.as(ran("finish"), { name: request.name, done: true })
  })
  return {
    Provision: Action.make("provision", [reserve, configure, finish], { state: Progress }),
    ProvisionPaused: Action.make("provision-paused", [reserve, configure, finish], {
      state: Progress,
      onFailure: "pause"
    })
  }
}

/** The application the fixture's deployments belong to. */
export const releaseApplication = "upgrade-fixture"
