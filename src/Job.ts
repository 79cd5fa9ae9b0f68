/**
 * A job: one side-effecting step of an action, with schemas for its input and output, pre-hooks, an execute
 * effect, post-hooks, and rollbacks that undo it.
 *
 * **Details**
 *
 * A job runs: decode its input with `input` → each pre-hook in order (each receives the previous one's value) →
 * `execute` → each post-hook in order → validate and encode the output with `output`. The first failure stops
 * the job. `undefined` or `null` where the output schema does not allow it fails with `JobNilOutput`.
 *
 * A job should do one write and do it in `execute`: hooks validate and prepare values. A rollback receives the
 * job's input, its output (`None` when the job itself failed: the rollback must check what was really
 * allocated), and the `Failure` that made the deployment roll back.
 *
 * A job's functions may use `JobContext` (job data, error log, attempt, idempotency key) and any service of their
 * own: the action's requirements are the union of its jobs' requirements, captured when it is registered.
 *
 * @since 0.1.0
 */
import { type Duration, Effect, Function, type Option, Pipeable, type Schedule, type Schema } from "effect"
import type { InvalidJobData } from "./ActionError.ts"
import type { Failure } from "./Deployment.ts"
import { runHooks, runRollbacks } from "./internal/steps.ts"
import { type DataError, JobContext } from "./JobContext.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~effect-actions/Job" as const

/**
 * A pre-hook or post-hook: receives the current value and returns the value for the next step.
 *
 * @since 0.1.0
 * @category models
 */
export type Hook<A, E, R> = (value: A) => Effect.Effect<A, E, R>

/**
 * What a rollback receives.
 *
 * @since 0.1.0
 * @category models
 */
export interface RollbackArgs<I, O> {
  /** The job's input. */
  readonly input: I
  /** The job's output; `None` when this job itself failed (or was stopped) before producing one. */
  readonly output: Option.Option<O>
  /** The failure that made the deployment roll back. */
  readonly failure: Failure
}

/**
 * A rollback: undoes what the job did. Its failure is recorded and the remaining rollbacks still run.
 *
 * @since 0.1.0
 * @category models
 */
export type Rollback<I, O, R> = (args: RollbackArgs<I, O>) => Effect.Effect<unknown, unknown, R>

/**
 * A job with input `I`, output `O`, failures `E` and requirements `R`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Job<I, O, E = never, R = never> extends Pipeable.Pipeable {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly input: Schema.Codec<I, unknown>
  readonly output: Schema.Codec<O, unknown>
  /** Schema of the job's typed failures; with it, a failure is persisted in a form that decodes back. */
  readonly error: Schema.Codec<E, unknown> | undefined
  readonly preHooks: ReadonlyArray<Hook<I, E, R>>
  readonly execute: (input: I) => Effect.Effect<O, E, R>
  readonly postHooks: ReadonlyArray<Hook<O, E, R>>
  /** Run in order when the job is rolled back; every one runs even when an earlier one fails. */
  readonly rollbacks: ReadonlyArray<Rollback<I, O, R>>
  readonly timeout: Duration.Input | undefined
  /** Whether the job runs in the same store transaction as its checkpoint (see `make`). */
  readonly transactional: boolean
  /** What a failure of this job does; `undefined` follows the action's policy (see `FailurePolicy`). */
  readonly onFailure: FailurePolicy | undefined
}

/**
 * What a job's failure does to its deployment.
 *
 * - `"rollback"` (the default): the failure is recorded and the jobs that ran are rolled back, in reverse order.
 * - `"pause"`: the failure is recorded and the deployment becomes `paused`: its lease is released, nothing runs,
 *   and the rollbacks of its completed jobs stay armed in the store until an operator calls `Actions.retry` (the
 *   failed job runs again, optionally with a new input), `Actions.rollback` or `Actions.stop`.
 *
 * A stop (`ExecutionStopped`) always rolls back, whatever the policy.
 *
 * @since 0.3.0
 * @category models
 */
export type FailurePolicy = "rollback" | "pause"

/**
 * Any job, for constraints.
 *
 * @since 0.1.0
 * @category models
 */
// oxlint-disable-next-line no-explicit-any -- a constraint type: `Job` is invariant in its parameters
export type Any = Job<any, any, any, any>

/**
 * The input type of a job.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Input<J> = J extends Job<infer I, infer _O, infer _E, infer _R> ? I : never

/**
 * The output type of a job.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Output<J> = J extends Job<infer _I, infer O, infer _E, infer _R> ? O : never

/**
 * The failure type of a job.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Error<J> = J extends Job<infer _I, infer _O, infer E, infer _R> ? E : never

/**
 * The requirements of a job.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Services<J> = J extends Job<infer _I, infer _O, infer _E, infer R> ? R : never

const JobProto = {
  [TypeId]: TypeId,
  pipe() {
    return Pipeable.pipeArguments(this, arguments)
  }
}

const build = <I, O, E, R>(fields: Omit<Job<I, O, E, R>, typeof TypeId | "pipe">): Job<I, O, E, R> =>
  Object.assign(Object.create(JobProto), fields)

const copy = <I, O, E, R>(self: Job<I, O, E, R>, fields: Partial<Omit<Job<I, O, E, R>, typeof TypeId | "pipe">>) =>
  build<I, O, E, R>({ ...fieldsOf(self), ...fields })

const fieldsOf = <I, O, E, R>(self: Job<I, O, E, R>): Omit<Job<I, O, E, R>, typeof TypeId | "pipe"> => ({
  name: self.name,
  input: self.input,
  output: self.output,
  error: self.error,
  preHooks: self.preHooks,
  execute: self.execute,
  postHooks: self.postHooks,
  rollbacks: self.rollbacks,
  timeout: self.timeout,
  transactional: self.transactional,
  onFailure: self.onFailure
})

/**
 * Whether a value is a job.
 *
 * @since 0.1.0
 * @category guards
 */
export const isJob = (u: unknown): u is Any => typeof u === "object" && u !== null && TypeId in u

/**
 * Defines a job.
 *
 * **Details**
 *
 * With `error`, the job's failures must be of that schema's type (it is checked; the failures of job data
 * operations, `JobContext.DataError`, are allowed too), and a failure is persisted encoded with it. Without it, the
 * failure type is inferred from the functions and only its tag and message are persisted.
 *
 * `retry` retries `execute` when it fails (hooks validate and prepare values, so they are not retried); the
 * schedule sees execute's failures. `timeout` bounds the whole job (hooks, execute and its retries) and fails
 * it with `JobTimeout`. Retries happen within one attempt: `JobContext.attempt` counts resumes, not retries.
 *
 * `transactional: true` runs the job (hooks and execute) and its checkpoint in one transaction of the store's
 * database, when the store supports transactions (`SqlDeploymentStore` does): a job whose side effects are writes
 * to that database, made through the same `SqlClient` layer instance as the store's, then happens exactly once: its
 * writes commit with its checkpoint, or not at all. Keep such jobs short (they hold a connection and row locks) and
 * free of other side effects (an HTTP call cannot be rolled back with the transaction).
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job } from "effect-actions"
 *
 * const CreateVm = Job.make("create-vm", {
 *   input: Schema.Struct({ app: Schema.String }),
 *   output: Schema.Struct({ app: Schema.String, vmId: Schema.String }),
 *   execute: ({ app }) => Effect.succeed({ app, vmId: `vm-${app}` }),
 *   rollback: ({ output }) => Effect.log("deleting", output)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export function make<I, IE, O, OE, E, EE, R1 = never, R2 = never, R3 = never, R4 = never>(
  name: string,
  options: {
    readonly input: Schema.Codec<I, IE>
    readonly output: Schema.Codec<O, OE>
    readonly error: Schema.Codec<E, EE>
    readonly execute: (input: I) => Effect.Effect<O, NoInfer<E> | DataError, R1>
    readonly preHooks?: ReadonlyArray<Hook<I, NoInfer<E> | DataError, R2>>
    readonly postHooks?: ReadonlyArray<Hook<O, NoInfer<E> | DataError, R3>>
    readonly rollback?: Rollback<I, O, R4>
    readonly retry?: Schedule.Schedule<unknown, NoInfer<E>, never, R1>
    readonly timeout?: Duration.Input
    readonly transactional?: boolean
    readonly onFailure?: FailurePolicy
  }
): Job<I, O, E | DataError, R1 | R2 | R3 | R4>
export function make<I, IE, O, OE, E1 = never, E2 = never, E3 = never, R1 = never, R2 = never, R3 = never, R4 = never>(
  name: string,
  options: {
    readonly input: Schema.Codec<I, IE>
    readonly output: Schema.Codec<O, OE>
    readonly execute: (input: I) => Effect.Effect<O, E1, R1>
    readonly preHooks?: ReadonlyArray<Hook<I, E2, R2>>
    readonly postHooks?: ReadonlyArray<Hook<O, E3, R3>>
    readonly rollback?: Rollback<I, O, R4>
    readonly retry?: Schedule.Schedule<unknown, NoInfer<E1>, never, R1>
    readonly timeout?: Duration.Input
    readonly transactional?: boolean
    readonly onFailure?: FailurePolicy
  }
): Job<I, O, E1 | E2 | E3, R1 | R2 | R3 | R4>
export function make(
  name: string,
  options: {
    readonly input: Schema.Codec<unknown, unknown>
    readonly output: Schema.Codec<unknown, unknown>
    readonly error?: Schema.Codec<unknown, unknown>
    readonly execute: (input: unknown) => Effect.Effect<unknown, unknown, unknown>
    readonly preHooks?: ReadonlyArray<Hook<unknown, unknown, unknown>>
    readonly postHooks?: ReadonlyArray<Hook<unknown, unknown, unknown>>
    readonly rollback?: Rollback<unknown, unknown, unknown>
    readonly retry?: Schedule.Schedule<unknown, unknown, never, unknown>
    readonly timeout?: Duration.Input
    readonly transactional?: boolean
    readonly onFailure?: FailurePolicy
  }
): Job<unknown, unknown, unknown, unknown> {
  return build({
    name,
    input: options.input,
    output: options.output,
    error: options.error,
    preHooks: options.preHooks ?? [],
    execute: options.retry === undefined ? options.execute : withRetry(options.execute, options.retry),
    postHooks: options.postHooks ?? [],
    rollbacks: options.rollback === undefined ? [] : [options.rollback],
    timeout: options.timeout,
    transactional: options.transactional ?? false,
    onFailure: options.onFailure
  })
}

/**
 * What `extend` may change in a job: its name, more hooks, one more rollback. Never its execute.
 *
 * @since 0.1.0
 * @category models
 */
export interface Extension<I, O, E, R> {
  readonly name?: string
  readonly preHooks?: ReadonlyArray<Hook<I, E, R>>
  readonly postHooks?: ReadonlyArray<Hook<O, E, R>>
  readonly rollback?: Rollback<I, O, R>
  /** A job's execute cannot be replaced: define a new job instead. */
  readonly execute?: never
}

/**
 * Adapts a job for an application: a new name, more hooks, one more rollback. The job's own hooks and rollbacks
 * are kept (the seed replaced the hook lists and lost hooks).
 *
 * **Details**
 *
 * The extension wraps the job: its pre-hooks run before the job's own pre-hooks, its post-hooks after the job's
 * own post-hooks, and its rollback before the job's own rollbacks. Passing `execute` is a type error.
 * To replace the rollbacks instead of adding one, use `withRollback`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const extend: {
  <I, O, E2 = never, R2 = never>(
    extension: Extension<NoInfer<I>, NoInfer<O>, E2, R2>
  ): <E, R>(self: Job<I, O, E, R>) => Job<I, O, E | E2, R | R2>
  <I, O, E, R, E2 = never, R2 = never>(
    self: Job<I, O, E, R>,
    extension: Extension<NoInfer<I>, NoInfer<O>, E2, R2>
  ): Job<I, O, E | E2, R | R2>
} = Function.dual(2, <I, O, E, R, E2, R2>(
  self: Job<I, O, E, R>,
  extension: Extension<I, O, E2, R2>
): Job<I, O, E | E2, R | R2> =>
  build<I, O, E | E2, R | R2>({
    ...fieldsOf<I, O, E | E2, R | R2>(self),
    name: extension.name ?? self.name,
    preHooks: [...(extension.preHooks ?? []), ...self.preHooks],
    postHooks: [...self.postHooks, ...(extension.postHooks ?? [])],
    rollbacks: extension.rollback === undefined ? self.rollbacks : [extension.rollback, ...self.rollbacks]
  }))

/**
 * A copy of the job with another name, to run one job more than once in an action.
 *
 * @since 0.1.0
 * @category combinators
 */
export const rename: {
  (name: string): <I, O, E, R>(self: Job<I, O, E, R>) => Job<I, O, E, R>
  <I, O, E, R>(self: Job<I, O, E, R>, name: string): Job<I, O, E, R>
} = Function.dual(2, <I, O, E, R>(self: Job<I, O, E, R>, name: string): Job<I, O, E, R> => copy(self, { name }))

/**
 * A copy of the job whose rollback is `rollback` alone (the job's earlier rollbacks are dropped).
 *
 * @since 0.1.0
 * @category combinators
 */
export const withRollback: {
  <I, O, R2>(rollback: Rollback<NoInfer<I>, NoInfer<O>, R2>): <E, R>(self: Job<I, O, E, R>) => Job<I, O, E, R | R2>
  <I, O, E, R, R2>(self: Job<I, O, E, R>, rollback: Rollback<NoInfer<I>, NoInfer<O>, R2>): Job<I, O, E, R | R2>
} = Function.dual(2, <I, O, E, R, R2>(self: Job<I, O, E, R>, rollback: Rollback<I, O, R2>): Job<I, O, E, R | R2> =>
  build<I, O, E, R | R2>({ ...fieldsOf<I, O, E, R | R2>(self), rollbacks: [rollback] }))

const withRetry = <I, O, E, R, R2>(
  execute: (input: I) => Effect.Effect<O, E, R>,
  schedule: Schedule.Schedule<unknown, E, never, R2>
) =>
(input: I): Effect.Effect<O, E, R | R2> => Effect.retry(Effect.suspend(() => execute(input)), schedule)

/**
 * A copy of the job whose execute is retried with `schedule` when it fails (hooks are not retried).
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  <E, R2 = never>(schedule: Schedule.Schedule<unknown, NoInfer<E>, never, R2>): <I, O, R>(
    self: Job<I, O, E, R>
  ) => Job<I, O, E, R | R2>
  <I, O, E, R, R2 = never>(
    self: Job<I, O, E, R>,
    schedule: Schedule.Schedule<unknown, NoInfer<E>, never, R2>
  ): Job<I, O, E, R | R2>
} = Function.dual(2, <I, O, E, R, R2>(
  self: Job<I, O, E, R>,
  schedule: Schedule.Schedule<unknown, E, never, R2>
): Job<I, O, E, R | R2> =>
  build<I, O, E, R | R2>({ ...fieldsOf<I, O, E, R | R2>(self), execute: withRetry(self.execute, schedule) }))

/**
 * A copy of the job that fails with `JobTimeout` when it runs longer than `duration` (retries included).
 *
 * @since 0.1.0
 * @category combinators
 */
export const timeout: {
  (duration: Duration.Input): <I, O, E, R>(self: Job<I, O, E, R>) => Job<I, O, E, R>
  <I, O, E, R>(self: Job<I, O, E, R>, duration: Duration.Input): Job<I, O, E, R>
} = Function.dual(
  2,
  <I, O, E, R>(self: Job<I, O, E, R>, duration: Duration.Input): Job<I, O, E, R> => copy(self, { timeout: duration })
)

/**
 * A copy of the job with its own failure policy, whatever its action's: `"pause"` makes a failure of this job
 * pause the deployment for an operator, `"rollback"` makes it roll back (see `FailurePolicy`).
 *
 * @example
 * ```ts
 * import { Job } from "effect-actions"
 * declare const RaiseQuota: Job.Job<{ app: string }, { app: string }>
 *
 * const Paused = RaiseQuota.pipe(Job.onFailure("pause"))
 * ```
 *
 * @since 0.3.0
 * @category combinators
 */
export const onFailure: {
  (policy: FailurePolicy): <I, O, E, R>(self: Job<I, O, E, R>) => Job<I, O, E, R>
  <I, O, E, R>(self: Job<I, O, E, R>, policy: FailurePolicy): Job<I, O, E, R>
} = Function.dual(
  2,
  <I, O, E, R>(self: Job<I, O, E, R>, policy: FailurePolicy): Job<I, O, E, R> => copy(self, { onFailure: policy })
)

/**
 * The job data key under which an adapted job keeps the inner job's output for its rollback.
 *
 * @since 0.1.0
 * @category constants
 */
export const adaptedOutputKey = "effect-actions/adapt/output"

/**
 * Fits a generic job into a pipeline whose values have other types.
 *
 * **Details**
 *
 * The adapted job has the schemas `input` and `output`. Its execute maps its input to the inner job's input with
 * `mapInput`, runs the inner job's pre-hooks, execute and post-hooks, saves the inner output as job data (so the
 * inner rollback gets it, even after a crash), and maps it to the adapted output with `mapOutput`. Its rollback
 * maps the input again and runs the inner job's rollbacks. `mapInput` should be free of side effects: it runs
 * again for the rollback.
 *
 * @since 0.1.0
 * @category combinators
 */
export const adapt: {
  <I, O, I2, IE2, O2, OE2, E2 = never, R2 = never>(options: {
    readonly name?: string
    readonly input: Schema.Codec<I2, IE2>
    readonly output: Schema.Codec<O2, OE2>
    readonly mapInput: (input: I2) => Effect.Effect<NoInfer<I>, E2, R2>
    readonly mapOutput: (output: NoInfer<O>, input: I2) => Effect.Effect<O2, E2, R2>
  }): <E, R>(self: Job<I, O, E, R>) => Job<I2, O2, E | E2 | InvalidJobData, R | R2 | JobContext>
  <I, O, E, R, I2, IE2, O2, OE2, E2 = never, R2 = never>(self: Job<I, O, E, R>, options: {
    readonly name?: string
    readonly input: Schema.Codec<I2, IE2>
    readonly output: Schema.Codec<O2, OE2>
    readonly mapInput: (input: I2) => Effect.Effect<NoInfer<I>, E2, R2>
    readonly mapOutput: (output: NoInfer<O>, input: I2) => Effect.Effect<O2, E2, R2>
  }): Job<I2, O2, E | E2 | InvalidJobData, R | R2 | JobContext>
} = Function.dual(2, <I, O, E, R, I2, O2, E2, R2>(self: Job<I, O, E, R>, options: {
  readonly name?: string
  readonly input: Schema.Codec<I2, unknown>
  readonly output: Schema.Codec<O2, unknown>
  readonly mapInput: (input: I2) => Effect.Effect<I, E2, R2>
  readonly mapOutput: (output: O, input: I2) => Effect.Effect<O2, E2, R2>
}) => {
  const runInner = (input: I) =>
    Effect.flatMap(
      Effect.flatMap(runHooks(self.preHooks, input), self.execute),
      (output) => runHooks(self.postHooks, output)
    )
  return build({
    name: options.name ?? self.name,
    input: options.input,
    output: options.output,
    error: undefined,
    preHooks: [],
    execute: (input: I2) =>
      Effect.gen(function*() {
        const inner = yield* options.mapInput(input)
        const output = yield* runInner(inner)
        const context = yield* JobContext
        yield* context.setData(adaptedOutputKey, self.output, output)
        return yield* options.mapOutput(output, input)
      }),
    postHooks: [],
    rollbacks: self.rollbacks.length === 0 ? [] : [
      ({ input, failure }: RollbackArgs<I2, O2>) =>
        Effect.gen(function*() {
          const inner = yield* options.mapInput(input)
          const context = yield* JobContext
          const output = yield* context.getData(adaptedOutputKey, self.output)
          yield* runRollbacks(self.rollbacks, { input: inner, output, failure })
        })
    ],
    timeout: self.timeout,
    transactional: self.transactional,
    onFailure: self.onFailure
  })
})
