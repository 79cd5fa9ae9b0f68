/**
 * Starting a deployment: the typed entry points (`start`, `execute`) encode the caller's input with the first job's
 * input schema, the untyped ones (`startByName`, `executeByName`) decode it; either way the value that will be
 * persisted is checked to read back, before the deployment is created (an `InputValidationError` otherwise, before
 * any side effect).
 *
 * @internal
 */
import { Effect, type Schema } from "effect"
import type * as Action from "../Action.ts"
import { InputValidationError, type PersistenceError } from "../ActionError.ts"
import type { ActionRef, ActionsShape, AwaitError, ExecuteResult, StartOptions } from "../Actions.ts"
import { describeSchemaError } from "./codec.ts"
import type { Registration } from "./registration.ts"
import type { Registry } from "./registry.ts"
import * as Validate from "./validate.ts"

/** What starting needs from the runtime. */
export interface StartingEnv {
  readonly registry: Registry
  /** Creates the deployment from an encoded first input, and runs it unless it existed already; returns its id. */
  readonly create: (reg: Registration, input: Schema.Json, key: string | undefined) => Effect.Effect<string, PersistenceError>
  /** Waits for a deployment, by an id already checked. */
  readonly awaitById: (deploymentId: string) => Effect.Effect<ExecuteResult<unknown>, AwaitError>
}

/** The entry points of the runtime that start a deployment. */
export type StartingMethods = Pick<ActionsShape, "start" | "execute" | "startByName" | "executeByName">

const invalidInput = (reg: Registration) => (error: Schema.SchemaError) =>
  new InputValidationError({ action: reg.action.name, job: reg.jobs[0]!.job.name, ...describeSchemaError(error) })

/** Builds the entry points that start a deployment. Each checks its arguments first (`validate.ts`). */
export const makeStarting = (deps: StartingEnv): StartingMethods => {
  const { awaitById, create, registry } = deps

  const start = <A extends Action.Any>(action: A, input: Action.Input<A>, startOptions?: StartOptions) =>
    Effect.gen(function*() {
      const reg = yield* registry.lookup(action, startOptions?.application)
      const first = reg.jobs[0]!
      const json = yield* Effect.mapErrorEager(first.input.encode(input), invalidInput(reg))
      // Decoding what will be persisted catches values the schema encodes but cannot read back.
      yield* Effect.mapErrorEager(first.input.decode(json), invalidInput(reg))
      return yield* create(reg, json, startOptions?.key)
    })

  const startByName = (ref: ActionRef, input: unknown, startOptions?: { readonly key?: string }) =>
    Effect.gen(function*() {
      const reg = yield* registry.lookupByName(ref)
      const first = reg.jobs[0]!
      const decoded = yield* Effect.mapErrorEager(first.input.decode(input), invalidInput(reg))
      const json = yield* Effect.mapErrorEager(first.input.encode(decoded), invalidInput(reg))
      return yield* create(reg, json, startOptions?.key)
    })

  return {
    start: Effect.fn("Actions.start")(function*<A extends Action.Any>(
      action: A,
      input: Action.Input<A>,
      startOptions?: StartOptions
    ) {
      yield* Validate.actionArgument("start", action)
      return yield* start(action, input, yield* Validate.startOptionsArgument("start", startOptions))
    }),
    execute: Effect.fn("Actions.execute")(function*<A extends Action.Any>(
      action: A,
      input: Action.Input<A>,
      startOptions?: StartOptions
    ) {
      yield* Validate.actionArgument("execute", action)
      const id = yield* start(action, input, yield* Validate.startOptionsArgument("execute", startOptions))
      return (yield* awaitById(id)) as ExecuteResult<Action.Output<A>>
    }),
    executeByName: Effect.fn("Actions.executeByName")(function*(ref: ActionRef, input: unknown, startOptions?: { readonly key?: string }) {
      const checkedRef = yield* Validate.actionRefArgument("executeByName", ref)
      const checkedOptions = yield* Validate.keyOptionsArgument("executeByName", startOptions)
      return yield* awaitById(yield* startByName(checkedRef, input, checkedOptions))
    }),
    startByName: Effect.fn("Actions.startByName")(function*(ref: ActionRef, input: unknown, startOptions?: { readonly key?: string }) {
      const checkedRef = yield* Validate.actionRefArgument("startByName", ref)
      return yield* startByName(checkedRef, input, yield* Validate.keyOptionsArgument("startByName", startOptions))
    })
  }
}
