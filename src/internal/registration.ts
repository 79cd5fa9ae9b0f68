/**
 * A registered action, compiled once: its jobs' JSON codecs, its state codec, and the services captured from the
 * caller of `register`.
 *
 * @internal
 */
import { type Context, Effect } from "effect"
import type * as Action from "../Action.ts"
import { StateValidationError } from "../ActionError.ts"
import type { Json } from "../DeploymentStore.ts"
import type * as Job from "../Job.ts"
import type * as State from "../State.ts"
import { describeSchemaError, type JsonCodec, jsonCodec } from "./codec.ts"

/** A job with its codecs. */
export interface CompiledJob {
  readonly index: number
  readonly job: Job.Any
  readonly input: JsonCodec<unknown>
  readonly output: JsonCodec<unknown>
  /** Whether the next job reads this job's output with the same schema (its encoded output is its input). */
  readonly outputIsNextInput: boolean
}

/** A registered action. */
export interface Registration {
  readonly application: string
  readonly action: Action.Any
  readonly jobs: ReadonlyArray<CompiledJob>
  readonly state:
    | {
      readonly definition: State.Any
      readonly codec: JsonCodec<unknown>
      /** The initial value, encoded once: every deployment starts with it. */
      readonly initial: Json
    }
    | undefined
  /** The services of the caller of `register`, provided to every job function and rollback. */
  readonly context: Context.Context<never>
}

/** Compiles an action for a registration; a state whose initial value does not fit its schema is refused. */
export const compile = (
  application: string,
  action: Action.Any,
  context: Context.Context<never>
): Effect.Effect<Registration, StateValidationError> =>
  Effect.gen(function*() {
    const definition = action.state
    const state = definition === undefined ? undefined : {
      definition,
      codec: jsonCodec(definition.schema),
      initial: yield* Effect.mapError(
        jsonCodec(definition.schema).encode(definition.initial),
        (error) => new StateValidationError({ action: action.name, ...describeSchemaError(error) })
      )
    }
    const jobs = action.jobs.map((job, index): CompiledJob => {
      const next = action.jobs[index + 1]
      return {
        index,
        job,
        input: jsonCodec(job.input),
        output: jsonCodec(job.output),
        outputIsNextInput: next !== undefined && next.input === job.output
      }
    })
    return { application, action, context, jobs, state }
  })

/** The key of an `(application, action)` pair: a JSON pair, so no two pairs share a key. */
export const registrationKey = (application: string, action: string): string => JSON.stringify([application, action])
