/**
 * Typed, persisted state shared by the jobs of one deployment: the seed's `Store`/`State`, with a schema.
 *
 * An action may declare one state (`Action.make(name, jobs, { state })`). Each deployment of it starts with the
 * state's `initial` value; its jobs and rollbacks read and change it with `get`, `set`, `update` and `modify`.
 * The state is encoded with its schema and persisted at every checkpoint, so a resumed deployment, and the
 * rollbacks that run in another process after a crash, see the value as of the last checkpoint.
 *
 * **Details**
 *
 * Using a state adds its identifier to a job's requirements; `Action.make` with `{ state }` removes it, so an
 * action whose jobs use a state it does not declare does not type-check at registration.
 *
 * **Gotchas**
 *
 * A value that does not satisfy the schema (a failed refinement) is detected when the next checkpoint encodes
 * it: the job that set it fails with `StateValidationError` and the deployment rolls back. Changes made after
 * the last checkpoint of a job that then crashed are lost with it, like the rest of that attempt.
 *
 * @since 0.1.0
 */
import { Context, Effect, type Schema } from "effect"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~effect-actions/State" as const

/**
 * The context identifier of a state, by key.
 *
 * @since 0.1.0
 * @category models
 */
export interface Identifier<Key extends string> {
  readonly [TypeId]: Key
}

/**
 * The cell a running deployment provides for its state.
 *
 * @since 0.1.0
 * @category models
 */
export interface Cell<A> {
  get(): A
  set(value: A): void
}

/**
 * A state definition: a key, a schema and an initial value, with the effects that read and change it.
 *
 * @since 0.1.0
 * @category models
 */
export interface State<Key extends string, A> {
  readonly [TypeId]: typeof TypeId
  readonly key: Key
  readonly schema: Schema.Codec<A, unknown>
  readonly initial: A
  /** The context service holding the running deployment's cell. */
  readonly service: Context.Service<Identifier<Key>, Cell<A>>
  /** The current value. */
  readonly get: Effect.Effect<A, never, Identifier<Key>>
  /** Replaces the value. */
  readonly set: (value: A) => Effect.Effect<void, never, Identifier<Key>>
  /** Replaces the value with `f` of it, and returns the new value. */
  readonly update: (f: (value: A) => A) => Effect.Effect<A, never, Identifier<Key>>
  /** Replaces the value with the second element of `f` of it, and returns the first. */
  readonly modify: <B>(f: (value: A) => readonly [B, A]) => Effect.Effect<B, never, Identifier<Key>>
}

/**
 * Any state definition, for constraints.
 *
 * @since 0.1.0
 * @category models
 */
// oxlint-disable-next-line no-explicit-any -- a constraint type: a state's service is invariant in its value
export type Any = State<any, any>

/**
 * The context identifier of a state definition, or `never` for none.
 *
 * @since 0.1.0
 * @category type-level
 */
export type IdentifierOf<S> = S extends State<infer Key, infer _A> ? Identifier<Key> : never

/**
 * Defines a state.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { State } from "effect-actions"
 *
 * const Provisioned = State.make("Provisioned", {
 *   schema: Schema.Struct({ vmIds: Schema.Array(Schema.String) }),
 *   initial: { vmIds: [] }
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Key extends string, A, I>(
  key: Key,
  options: { readonly schema: Schema.Codec<A, I>; readonly initial: NoInfer<A> }
): State<Key, A> => {
  const service = Context.Service<Identifier<Key>, Cell<A>>(`effect-actions/State/${key}`)
  return {
    [TypeId]: TypeId,
    key,
    schema: options.schema,
    initial: options.initial,
    service,
    get: Effect.map(service, (cell) => cell.get()),
    set: (value) => Effect.map(service, (cell) => cell.set(value)),
    update: (f) =>
      Effect.map(service, (cell) => {
        const next = f(cell.get())
        cell.set(next)
        return next
      }),
    modify: (f) =>
      Effect.map(service, (cell) => {
        const [result, next] = f(cell.get())
        cell.set(next)
        return result
      })
  }
}
