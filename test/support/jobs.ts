/**
 * Jobs for tests: each records what it does in a log owned by the test that made it.
 */
import { Deferred, Effect, Option, Schema } from "effect"
import { Job, JobContext } from "effect-actions"

/** The value passed along the test pipelines. */
export const Counter = Schema.Struct({ n: Schema.Number })
export type Counter = typeof Counter.Type

/** A typed failure with a schema, so that it is persisted and decoded back. */
export class Boom extends Schema.TaggedError<Boom>()("Boom", { job: Schema.String }) {
  override get message(): string {
    return `${this.job} exploded`
  }
}

/** A log of what the jobs of one test did, in order. */
export interface Log {
  readonly events: Array<string>
  readonly add: (event: string) => Effect.Effect<void>
}

export const makeLog = (): Log => {
  const events: Array<string> = []
  return { events, add: (event) => Effect.sync(() => void events.push(event)) }
}

export interface StepOptions {
  /** Fail execute with `Boom`. */
  readonly fails?: boolean
  /** Make the rollback fail with `Boom` ("error") or throw ("defect"). */
  readonly rollbackFails?: "error" | "defect"
  /** No rollback at all. */
  readonly noRollback?: boolean
}

const show = (output: Option.Option<Counter>) => Option.match(output, { onNone: () => "none", onSome: (o) => `${o.n}` })

/** A job that adds one to `n`, logging `run <name> <n>` and `rollback <name> in=<n> out=<n|none> <failure tag>`. */
export const step = (name: string, log: Log, options: StepOptions = {}) => {
  const job = Job.make(name, {
    input: Counter,
    output: Counter,
    error: Boom,
    execute: ({ n }) =>
      options.fails === true
        ? Effect.andThen(log.add(`run ${name} ${n}`), Effect.fail(new Boom({ job: name })))
        : Effect.as(log.add(`run ${name} ${n}`), { n: n + 1 })
  })
  if (options.noRollback === true) return job
  return Job.withRollback(job, ({ failure, input, output }) =>
    Effect.andThen(
      log.add(`rollback ${name} in=${input.n} out=${show(output)} ${failure.tag}`),
      options.rollbackFails === "error"
        ? Effect.fail(new Boom({ job: name }))
        : options.rollbackFails === "defect"
        ? Effect.sync(() => {
          throw new Error(`rollback of ${name} threw`)
        })
        : Effect.void
    ))
}

/** Runs an effect expected to fail with `DeploymentFailed`, and returns that error (dies on anything else). */
export const failedDeployment = <A, E extends { readonly _tag: string }, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<Extract<E, { readonly _tag: "DeploymentFailed" }>, never, R> =>
  Effect.matchEffect(effect, {
    onFailure: (error) =>
      error._tag === "DeploymentFailed"
        ? Effect.succeed(error as Extract<E, { readonly _tag: "DeploymentFailed" }>)
        : Effect.die(new Error(`expected DeploymentFailed, got ${error._tag}: ${String(error)}`)),
    onSuccess: () => Effect.die(new Error("expected DeploymentFailed, got a success"))
  })

/** A switch a test flips to make a job fail or pass. */
export interface Switch {
  failing: boolean
}

/** A job that fails with `Boom` while the switch is on, or while its input is below `atLeast`. */
export const quota = (log: Log, switched: Switch, atLeast = 0) =>
  Job.make("quota", {
    input: Counter,
    output: Counter,
    error: Boom,
    execute: ({ n }) =>
      Effect.andThen(
        log.add(`run quota ${n}`),
        switched.failing || n < atLeast ? Effect.fail(new Boom({ job: "quota" })) : Effect.succeed({ n: n + 1 })
      ),
    rollback: ({ input, output }) =>
      log.add(`rollback quota in=${input.n} out=${Option.match(output, { onNone: () => "none", onSome: (o) => `${o.n}` })}`)
  })

/** A job that blocks on its first attempt (until `gate` opens) and goes through on later attempts. */
export const blockingOnFirstAttempt = (name: string, log: Log, started: Deferred.Deferred<void>, gate: Deferred.Deferred<void>) =>
  Job.make(name, {
    input: Counter,
    output: Counter,
    execute: ({ n }) =>
      Effect.gen(function*() {
        const context = yield* JobContext.JobContext
        yield* log.add(`run ${name} attempt ${context.attempt} key ${context.idempotencyKey === `${context.deploymentId}/${name}`}`)
        if (context.attempt === 1) {
          yield* Deferred.succeed(started, undefined)
          yield* Deferred.await(gate)
        }
        return { n: n + 1 }
      }),
    rollback: () => log.add(`rollback ${name}`)
  })
