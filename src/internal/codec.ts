/**
 * JSON codecs of job, state and data schemas, built once per schema and reused.
 *
 * A value nested deeper than the stack allows a schema to walk (a recursive schema, a value 10,000 levels deep)
 * overflows the stack while it is encoded or decoded, and a schema's transformation may throw on a value. The codecs
 * turn either defect into a `SchemaError`, so such a value is refused like any other invalid value
 * (`InputValidationError`, `OutputValidationError`, `StoredDataCorrupt`, ...) instead of killing the run.
 *
 * @internal
 */
import { Cause, Effect, Exit, Predicate, Schema, SchemaIssue } from "effect"
import type { Json } from "../DeploymentStore.ts"

/** Encoding to, and decoding from, the JSON form a store keeps. */
export interface JsonCodec<A> {
  readonly encode: (value: A) => Effect.Effect<Json, Schema.SchemaError>
  readonly decode: (json: unknown) => Effect.Effect<A, Schema.SchemaError>
}

const cache = new WeakMap<object, JsonCodec<never>>()

/** Whether a defect is the JavaScript engine's stack overflow. */
export const isStackOverflow = (defect: unknown): boolean =>
  defect instanceof RangeError && /call stack/i.test(defect.message)

const tooDeepMessage = "the value is nested too deeply to be validated (the stack overflowed)"

/** The schema error of a value nested too deeply for a schema to walk it on the stack. */
export const tooDeep = (): Schema.SchemaError =>
  new Schema.SchemaError(new SchemaIssue.InvalidValue({ message: tooDeepMessage }))

/**
 * The schema error of a schema that died on a value: a transformation that throws on it, or a stack overflow. The
 * value is refused like any value that does not fit: a throwing transformation is a bug of the schema, but a
 * deployment must not die of it (an input or output refused, a stored value reported as corrupt).
 */
const failDefect = (defect: unknown): Effect.Effect<never, Schema.SchemaError> =>
  Effect.fail(
    isStackOverflow(defect)
      ? tooDeep()
      : new Schema.SchemaError(
        new SchemaIssue.InvalidValue({ message: `the schema died on the value: ${describeError(defect).message}` })
      )
  )

/** The defect of a failure that has no typed error, if any. */
const defectOnly = (cause: Cause.Cause<unknown>): { readonly defect: unknown } | undefined => {
  let found: { readonly defect: unknown } | undefined
  for (const reason of cause.reasons) {
    if (reason._tag === "Fail") return undefined
    if (reason._tag === "Die" && found === undefined) found = { defect: reason.defect }
  }
  return found
}

/**
 * A schema operation whose defects (thrown while it is built or while it runs: a transformation that throws, a
 * stack overflow) are `SchemaError`s. A schema without effectful transformations returns its result as an `Exit`
 * right away: that is returned as it is (no fiber step); only an operation that returns an effect still to run is
 * guarded while it runs.
 */
const guarded = <A, B>(
  operation: (value: A) => Effect.Effect<B, Schema.SchemaError>
): (value: A) => Effect.Effect<B, Schema.SchemaError> =>
(value) => {
  let result: Effect.Effect<B, Schema.SchemaError>
  try {
    result = operation(value)
  } catch (defect) {
    return failDefect(defect)
  }
  if (!Exit.isExit(result)) return Effect.catchDefect(result, failDefect)
  const died = Exit.isFailure(result) ? defectOnly(result.cause) : undefined
  return died === undefined ? result : failDefect(died.defect)
}

/** The JSON codec of a schema (cached by schema identity). */
export const jsonCodec = <A>(schema: Schema.Codec<A, unknown>): JsonCodec<A> => {
  const cached = cache.get(schema)
  if (cached !== undefined) return cached as unknown as JsonCodec<A>
  const json = Schema.toCodecJson(schema)
  const codec: JsonCodec<A> = {
    encode: guarded(Schema.encodeEffect(json) as (value: A) => Effect.Effect<Json, Schema.SchemaError>),
    decode: guarded(Schema.decodeUnknownEffect(json) as (json: unknown) => Effect.Effect<A, Schema.SchemaError>)
  }
  cache.set(schema, codec as unknown as JsonCodec<never>)
  return codec
}

/** Encodes synchronously, for best-effort uses (persisting an error's detail); `undefined` when it fails. */
export const encodeOrUndefined = <A>(schema: Schema.Codec<A, unknown>, value: unknown): Json | undefined => {
  try {
    const exit = Schema.encodeUnknownExit(Schema.toCodecJson(schema))(value)
    return Exit.isSuccess(exit) ? exit.value as Json : undefined
  } catch {
    // nested too deeply for the stack: the detail is left out, as for any value that does not encode
    return undefined
  }
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const formatPath = (path: ReadonlyArray<unknown>): string => {
  if (path.length === 0) return "(root)"
  let out = ""
  for (const segment of path) {
    const key = Predicate.isObject(segment) && "key" in segment ? segment.key : segment
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`
  }
  return out
}

/** The path and message of a schema error's first issue (with a count of the others). */
export const describeSchemaError = (error: Schema.SchemaError): { readonly path: string; readonly issue: string } => {
  try {
    return describeIssues(error)
  } catch (defect) {
    // an issue nested too deeply to be formatted on the stack (its path is as deep as the value)
    if (isStackOverflow(defect)) return { path: "(root)", issue: "the value is nested too deeply to describe where it is invalid" }
    throw defect
  }
}

const describeIssues = (error: Schema.SchemaError): { readonly path: string; readonly issue: string } => {
  const { issues } = formatter(error.issue)
  const first = issues[0]
  if (first === undefined) return { path: "(root)", issue: error.message }
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? "s" : ""})` : ""
  return { path: formatPath(first.path ?? []), issue: `${first.message}${more}` }
}

/** A tag and a message for any failure value: a tagged error, an `Error`, a string, or anything else. */
export const describeError = (error: unknown): { readonly tag: string; readonly message: string } => {
  if (Predicate.isObject(error) || Predicate.isFunction(error)) {
    const tag = "_tag" in error && typeof error._tag === "string"
      ? error._tag
      : error instanceof Error
      ? error.name
      : "Error"
    const message = "message" in error && typeof error.message === "string" && error.message !== ""
      ? error.message
      : safeJson(error)
    return { tag, message }
  }
  return { tag: "Error", message: typeof error === "string" ? error : String(error) }
}

const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** A tag and a message for a cause: its first failure, else its first defect, else an interruption. */
export const describeCause = (cause: Cause.Cause<unknown>): {
  readonly tag: string
  readonly message: string
  readonly error: unknown
  readonly isFailure: boolean
} => {
  const failure = Cause.findError(cause)
  if (failure._tag === "Success") return { ...describeError(failure.success), error: failure.success, isFailure: true }
  const defect = Cause.findDefect(cause)
  if (defect._tag === "Success") {
    return { tag: "Defect", message: describeError(defect.success).message, error: defect.success, isFailure: false }
  }
  return { tag: "Interrupted", message: "interrupted", error: undefined, isFailure: false }
}
