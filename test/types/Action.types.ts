/**
 * Type tests: checked by `tsc --noEmit` (part of `npm test`), never run. Each `@ts-expect-error` below must
 * be an error: if the line ever compiled, the directive itself would fail the type check.
 */
import { Context, Effect, Schema } from "effect"
import { Action, type Actions, Job, type JobContext, State } from "effect-actions"

const A = Schema.Struct({ a: Schema.String })
const AB = Schema.Struct({ a: Schema.String, b: Schema.Number })
const C = Schema.Struct({ c: Schema.Boolean })

const aToAb = Job.make("a-to-ab", { input: A, output: AB, execute: ({ a }) => Effect.succeed({ a, b: 1 }) })
const abToC = Job.make("ab-to-c", { input: AB, output: C, execute: () => Effect.succeed({ c: true }) })
const aToA = Job.make("a-to-a", { input: A, output: A, execute: (value) => Effect.succeed(value) })
const cToC = Job.make("c-to-c", { input: C, output: C, execute: (value) => Effect.succeed(value) })

// A job's output may carry more than the next job's input needs (structural subtyping).
export const chained = Action.make("chained", [aToAb, aToA])
export const three = Action.make("three", [aToA, aToAb, abToC])

// The action's input is the first job's input, its output the last job's output.
export const input: Action.Input<typeof three> = { a: "x" }
export const output: Action.Output<typeof three> = { c: true }

// @ts-expect-error: the output { c } of "ab-to-c" does not fit the input { a } of "a-to-a"
export const misChained = Action.make("mis-chained", [abToC, aToA])

// @ts-expect-error: the mismatch is found at any position, not only the first pair
export const misChainedLater = Action.make("mis-chained-later", [aToA, aToAb, abToC, aToA])

// @ts-expect-error: an action needs at least one job
export const empty = Action.make("empty", [])

// @ts-expect-error: { a } alone lacks the b that "ab-to-c" needs
export const missingField = Action.make("missing-field", [aToA, abToC])

export const fine = Action.make("fine", [cToC, cToC.pipe(Job.rename("c-again"))])

// extend can change hooks, name and rollback, but never execute.
export const extended = Job.extend(aToA, { name: "renamed", preHooks: [(value) => Effect.succeed(value)] })
// @ts-expect-error: a job's execute cannot be replaced by extend
export const replacedExecute = Job.extend(aToA, { execute: (value: { a: string }) => Effect.succeed(value) })

// A hook must keep the job's value type.
// @ts-expect-error: a pre-hook of a job taking { a } cannot return a number
export const badHook = Job.extend(aToA, { preHooks: [() => Effect.succeed(1)] })

// With an error schema, execute may fail only with that schema's type.
class Quota extends Schema.TaggedError<Quota>()("Quota", {}) {}
class Other extends Schema.TaggedError<Other>()("Other", {}) {}
export const typedError = Job.make("typed", { input: A, output: A, error: Quota, execute: () => Effect.fail(new Quota()) })
// @ts-expect-error: Other is not the declared error type
export const wrongError = Job.make("wrong", { input: A, output: A, error: Quota, execute: () => Effect.fail(new Other()) })

// The services a job needs are the action's requirements; JobContext and the declared state are not.
class Cloud extends Context.Service<Cloud, { readonly create: Effect.Effect<string> }>()("test/Cloud") {}
const Count = State.make("Count", { schema: Schema.Number, initial: 0 })
const usesServices = Job.make("uses-services", {
  input: A,
  output: A,
  execute: (value) =>
    Effect.gen(function*() {
      yield* (yield* Cloud).create
      yield* Count.update((n) => n + 1)
      return value
    })
})
export const withState = Action.make("with-state", [usesServices], { state: Count })
export const services: Action.Services<typeof withState> extends Cloud ? true : false = true
export const noExtra: [Action.Services<typeof withState>] extends [Cloud] ? true : false = true
export const notJobContext: JobContext.JobContext extends Action.Services<typeof withState> ? false : true = true

// Without the state declared, its identifier stays a requirement, so registering would demand it.
export const withoutState = Action.make("without-state", [usesServices])
export const stateRequired: State.Identifier<"Count"> extends Action.Services<typeof withoutState> ? true : false = true

// register demands the action's services from its caller.
declare const actions: Actions.ActionsShape
export const registered: Effect.Effect<void, unknown, Cloud> = actions.register(withState)
// @ts-expect-error: registering needs Cloud, so the effect cannot be typed as needing nothing
export const registeredWithoutCloud: Effect.Effect<void, unknown, never> = actions.register(withState)

// execute is typed by the action: input checked, output known.
export const executed: Effect.Effect<Actions.ExecuteResult<{ readonly c: boolean }>, unknown> = actions.execute(three, { a: "x" })
// @ts-expect-error: the input of "three" is { a: string }
export const badInput = actions.execute(three, { c: true })

// A job written inline in the list infers its own types, not `any` from the list's constraint.
export const inline = Action.make("inline", [
  Job.make("inline-a", { input: A, output: AB, execute: ({ a }) => Effect.succeed({ a, b: 1 }) }),
  Job.make("inline-b", { input: AB, output: C, execute: () => Effect.succeed({ c: true }) })
])
export const inlineNeedsNothing: [Action.Services<typeof inline>] extends [never] ? true : false = true
export const inlineOutput: Action.Output<typeof inline> = { c: true }
// @ts-expect-error: the output of an inline list is still checked
export const inlineWrongOutput: Action.Output<typeof inline> = { c: "yes" }
