/**
 * An action: a named, ordered list of jobs, where each job's output is the next job's input.
 *
 * **Details**
 *
 * `Action.make` checks at compile time that every job's output type is assignable to the next job's input type:
 * a mis-chained list does not compile, and the error names both types. At run time, `validate` (called by
 * `Actions.register`) rejects an empty list (`EmptyJobSequence`) and duplicate job names (`DuplicateJobName`)
 * before anything runs.
 *
 * The action's `fingerprint` identifies its job list (names, in order). A deployment stores the fingerprint of
 * the definition that started it, and is resumed only by the same definition (see `docs/operations.md`).
 *
 * @since 0.1.0
 */
import { Effect, Pipeable } from "effect"
import { DuplicateJobName, EmptyJobSequence } from "./ActionError.ts"
import type * as Job from "./Job.ts"
import type { JobContext } from "./JobContext.ts"
import type * as State from "./State.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~effect-actions/Action" as const

/**
 * An action taking `I`, producing `O`, whose jobs fail with `E` and need `R`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Action<I, O, E = never, R = never> extends Pipeable.Pipeable {
  readonly [TypeId]: {
    readonly _I: (_: I) => I
    readonly _O: (_: O) => O
    readonly _E: (_: never) => E
    readonly _R: (_: never) => R
  }
  readonly name: string
  readonly jobs: ReadonlyArray<Job.Any>
  /** The state the action's jobs share, if it declares one. */
  readonly state: State.Any | undefined
  /** The job names in order, as a JSON array: identifies this definition in stored deployments. */
  readonly fingerprint: string
  /** What a job's failure does, unless the job sets its own (`Job.FailurePolicy`); `"rollback"` by default. */
  readonly onFailure: Job.FailurePolicy
}

/**
 * Any action, for constraints.
 *
 * @since 0.1.0
 * @category models
 */
// oxlint-disable-next-line no-explicit-any -- a constraint type: `Action` is invariant in its input and output
export type Any = Action<any, any, any, any>

/**
 * The input type of an action (its first job's input).
 *
 * @since 0.1.0
 * @category type-level
 */
export type Input<A> = A extends Action<infer I, infer _O, infer _E, infer _R> ? I : never

/**
 * The output type of an action (its last job's output).
 *
 * @since 0.1.0
 * @category type-level
 */
export type Output<A> = A extends Action<infer _I, infer O, infer _E, infer _R> ? O : never

/**
 * The failure type of an action's jobs.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Error<A> = A extends Action<infer _I, infer _O, infer E, infer _R> ? E : never

/**
 * The services an action's jobs need from the caller (`JobContext` and the action's state excluded: the runtime
 * provides them). `Actions.register` requires them.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Services<A> = A extends Action<infer _I, infer _O, infer _E, infer R> ? R : never

/**
 * The type error a mis-chained job list reports at the job whose input does not accept the previous output.
 *
 * @since 0.1.0
 * @category type-level
 */
export interface JobInputMismatch<PreviousOutput, Input> {
  readonly "effect-actions: this job's input type does not accept the previous job's output type": {
    readonly previousOutput: PreviousOutput
    readonly input: Input
  }
}

/**
 * `unknown` at every position of a well-chained job list; `JobInputMismatch` at each job whose input type does
 * not accept the previous job's output type. `Action.make` intersects its argument with it.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Chained<Jobs extends ReadonlyArray<unknown>> = Jobs extends readonly [
  infer First,
  infer Second,
  ...infer Rest
] ? readonly [
    unknown,
    ...([Job.Output<First>] extends [Job.Input<Second>] ? Chained<readonly [Second, ...Rest]>
      : readonly [JobInputMismatch<Job.Output<First>, Job.Input<Second>>, ...Chained<readonly [Second, ...Rest]>])
  ]
  : ReadonlyArray<unknown>

type Last<Jobs extends ReadonlyArray<unknown>> = Jobs extends readonly [...infer _, infer L] ? L : never

/**
 * What `make` requires of each element of its list: a job. Deliberately minimal (not `Job.Any`), so that a job
 * written inline in the list infers its own types instead of taking `any` from the list's constraint.
 */
interface JobLike {
  readonly [Job.TypeId]: typeof Job.TypeId
  readonly name: string
}

const ActionProto = {
  [TypeId]: {
    _I: (_: unknown) => _,
    _O: (_: unknown) => _,
    _E: (_: never) => _,
    _R: (_: never) => _
  },
  pipe() {
    return Pipeable.pipeArguments(this, arguments)
  }
}

/**
 * The fingerprint of a job list: its names in order, as a JSON array.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fingerprintOf = (jobs: ReadonlyArray<Pick<Job.Any, "name">>): string =>
  JSON.stringify(jobs.map((job) => job.name))

/**
 * Defines an action from a non-empty list of jobs whose types chain.
 *
 * @example
 * ```ts
 * import { Action } from "effect-actions"
 * declare const Provision: import("effect-actions").Job.Job<{ app: string }, { app: string; vmId: string }>
 * declare const Announce: import("effect-actions").Job.Job<{ vmId: string }, { vmId: string }>
 *
 * const Deploy = Action.make("deploy-app", [Provision, Announce])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <
  const Jobs extends readonly [JobLike, ...Array<JobLike>],
  S extends State.Any | undefined = undefined
>(
  name: string,
  jobs: Jobs & Chained<Jobs>,
  options?: {
    readonly state?: S
    /** What a job's failure does (see `Job.FailurePolicy`); `"rollback"` by default. A job may set its own. */
    readonly onFailure?: Job.FailurePolicy
  }
): Action<
  Job.Input<Jobs[0]>,
  Job.Output<Last<Jobs>>,
  Job.Error<Jobs[number]>,
  Exclude<Job.Services<Jobs[number]>, JobContext | State.IdentifierOf<S>>
> =>
  Object.assign(Object.create(ActionProto), {
    name,
    // Every element is a `Job` (`JobLike` only narrows what the compiler infers from).
    jobs: [...jobs] as ReadonlyArray<unknown> as ReadonlyArray<Job.Any>,
    state: options?.state,
    onFailure: options?.onFailure ?? "rollback",
    fingerprint: fingerprintOf(jobs as ReadonlyArray<JobLike>)
  })

/**
 * Checks what the types cannot: at least one job, and unique job names.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = <A extends Any>(action: A): Effect.Effect<A, EmptyJobSequence | DuplicateJobName> =>
  Effect.suspend((): Effect.Effect<A, EmptyJobSequence | DuplicateJobName> => {
    if (action.jobs.length === 0) return Effect.fail(new EmptyJobSequence({ action: action.name }))
    const seen = new Set<string>()
    for (const job of action.jobs) {
      if (seen.has(job.name)) return Effect.fail(new DuplicateJobName({ action: action.name, job: job.name }))
      seen.add(job.name)
    }
    return Effect.succeed(action)
  })
