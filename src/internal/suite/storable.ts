/**
 * Conformance tests: a value a store cannot hold exactly (`\u0000`, an unpaired UTF-16 surrogate, in a string or
 * an object key) is stored exactly or refused with a `PersistenceError` of reason `invalid`: never altered, never
 * another reason, and a refused write changes nothing.
 *
 * @internal
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import type { LeaseLost, PersistenceError } from "../../ActionError.ts"
import { DeploymentStore, type Json, type Snapshot } from "../../DeploymentStore.ts"
import { assertSameRow, createOptions, errorOf, fenceOf, type Helpers, makeSnapshot, type SuiteIt, T0 } from "./fixtures.ts"

/** Strings PostgreSQL cannot hold (`\u0000`) or UTF-8 cannot encode (unpaired surrogates). */
export const hardStrings: ReadonlyArray<readonly [string, string]> = [
  ["\\u0000", "a\u0000b"],
  ["an unpaired high surrogate", "\u{1F680}".slice(0, 1)],
  ["an unpaired low surrogate", `x${"\u{1F680}".slice(1)}y`]
]
/** JSON values holding one: in a string, nested, and as an object key. */
const hardValues: ReadonlyArray<readonly [string, Json]> = hardStrings.flatMap(([name, text]) => [
  [`${name} in a string`, { s: text }],
  [`${name} nested in an array`, [1, { deep: [text] }]],
  [`${name} in an object key`, { [`k${text}`]: 1 }]
])

/**
 * Runs `write`: if it succeeds, what `read` returns must be `expected`, exactly; if it fails, the error must be a
 * `PersistenceError` of reason `invalid`, and `unchanged` then checks that nothing was written.
 */
export const storedExactlyOrRefused = <R, R2, R3>(
  what: string,
  write: Effect.Effect<unknown, PersistenceError | LeaseLost, R>,
  read: Effect.Effect<unknown, PersistenceError, R2>,
  expected: unknown,
  unchanged: Effect.Effect<void, PersistenceError, R3>
) =>
  Effect.gen(function*() {
    const outcome = yield* Effect.exit(write)
    if (Exit.isSuccess(outcome)) {
      assertSameRow(yield* read, expected)
      return
    }
    const error = yield* Effect.flip(Effect.failCause(outcome.cause))
    assert.strictEqual(error._tag, "PersistenceError", `${what}: ${error._tag}`)
    if (error._tag === "PersistenceError") assert.strictEqual(error.reason, "invalid", `${what}: ${error.detail}`)
    yield* unchanged
  })

/** Builds the assertion that a deployment is as it was created, with no errors. */
const unchangedFromIn = ({ assertSameStored, get }: Pick<Helpers, "assertSameStored" | "get">) => (snapshot: Snapshot) =>
  Effect.gen(function*() {
    const store = yield* DeploymentStore
    assertSameStored(yield* get(snapshot.deployment.id), snapshot)
    assert.deepStrictEqual(yield* store.errors(snapshot.deployment.id), [])
  })

/** Values no store can hold, in creates, checkpoints, error logs and job data: stored exactly or refused as `invalid`. */
export const storableTests = (it: SuiteIt, helpers: Helpers): void => {
  describe("values no store can hold", () => {
    createValueTests(it, helpers)
    checkpointValueTests(it, helpers)
    appendValueTests(it, helpers)
  })
}

const createValueTests = (it: SuiteIt, _helpers: Helpers): void => {
  it.effect("create stores such an input exactly or refuses it as invalid, creating nothing", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      for (const [name, value] of hardValues) {
        const snapshot = makeSnapshot({ input: value })
        yield* storedExactlyOrRefused(
          `input with ${name}`,
          store.create(snapshot, createOptions),
          Effect.map(store.get(snapshot.deployment.id), (read) => Option.getOrThrow(read).jobs[0]!.input),
          value,
          Effect.map(store.get(snapshot.deployment.id), (read) => assert.isTrue(Option.isNone(read), name))
        )
      }
    }))

  it.effect("create stores such a name or key exactly or refuses it as invalid", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      for (const [name, text] of hardStrings) {
        for (const field of ["application", "action", "key"] as const) {
          const snapshot = makeSnapshot({ [field]: `${field}-${crypto.randomUUID()}-${text}` })
          yield* storedExactlyOrRefused(
            `${field} with ${name}`,
            store.create(snapshot, createOptions),
            Effect.map(store.get(snapshot.deployment.id), (read) => Option.getOrThrow(read).deployment[field]),
            snapshot.deployment[field],
            Effect.map(store.get(snapshot.deployment.id), (read) => assert.isTrue(Option.isNone(read), name))
          )
        }
      }
    }))
}

const checkpointValueTests = (it: SuiteIt, { assertSameStored, created, get }: Helpers): void => {
  const unchangedFrom = unchangedFromIn({ assertSameStored, get })
  it.effect("a checkpoint stores such a state, job output, failure or error exactly, or refuses all of it", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      for (const [name, value] of hardValues) {
        const cases: ReadonlyArray<
          readonly [string, (s: Snapshot) => Effect.Effect<unknown, PersistenceError, DeploymentStore>]
        > = [
          ["state", (s) => Effect.map(get(s.deployment.id), (read) => read.deployment.state)],
          ["job output", (s) => Effect.map(get(s.deployment.id), (read) => read.jobs[0]!.output)],
          ["failure detail", (s) => Effect.map(get(s.deployment.id), (read) => read.deployment.failure?.detail)],
          ["error detail", (s) => Effect.map(store.errors(s.deployment.id), (errors) => errors[0]?.detail)]
        ]
        for (const [field, read] of cases) {
          const snapshot = yield* created(makeSnapshot())
          yield* storedExactlyOrRefused(
            `${field} with ${name}`,
            store.checkpoint({
              fence: fenceOf(snapshot),
              at: T0 + 1,
              deployment: field === "state"
                ? { state: value }
                : field === "failure detail"
                ? { failure: { job: "job-0", jobIndex: 0, phase: "execute", tag: "E", message: "m", detail: value } }
                : {},
              jobs: field === "job output" ? [{ index: 0, status: "succeeded", output: value }] : [],
              errors: field === "error detail" ? [{ ...errorOf("job-0", "m"), detail: value }] : []
            }),
            read(snapshot),
            value,
            unchangedFrom(snapshot)
          )
        }
      }
      for (const [name, text] of hardStrings) {
        const snapshot = yield* created(makeSnapshot())
        yield* storedExactlyOrRefused(
          `error message with ${name}`,
          store.checkpoint({ fence: fenceOf(snapshot), at: T0 + 1, deployment: {}, jobs: [], errors: [errorOf("job-0", text)] }),
          Effect.map(store.errors(snapshot.deployment.id), (errors) => errors.map((e) => e.message)),
          [text],
          unchangedFrom(snapshot)
        )
      }
    }))
}

const appendValueTests = (it: SuiteIt, { created }: Helpers): void => {
  it.effect("appendErrors, appendErrorOnce and setJobData store such a value exactly or refuse it as invalid", () =>
    Effect.gen(function*() {
      const store = yield* DeploymentStore
      for (const [name, text] of hardStrings) {
        const snapshot = yield* created(makeSnapshot())
        const id = snapshot.deployment.id
        const messages = Effect.map(store.errors(id), (errors) => errors.map((e) => e.message))
        const noErrors = Effect.map(store.errors(id), (errors) => assert.deepStrictEqual(errors, [], name))
        yield* storedExactlyOrRefused(
          `appendErrors message with ${name}`,
          store.appendErrors(fenceOf(snapshot), [errorOf("job-0", text)]),
          messages,
          [text],
          noErrors
        )
        const other = yield* created(makeSnapshot())
        yield* storedExactlyOrRefused(
          `appendErrorOnce message with ${name}`,
          store.appendErrorOnce(other.deployment.id, { ...errorOf("job-0", "m"), message: text, job: undefined }),
          Effect.map(store.errors(other.deployment.id), (errors) => errors.map((e) => e.message)),
          [text],
          Effect.map(store.errors(other.deployment.id), (errors) => assert.deepStrictEqual(errors, [], name))
        )
        yield* storedExactlyOrRefused(
          `appendErrorOnce tag with ${name}`,
          store.appendErrorOnce(other.deployment.id, { ...errorOf("job-0", "m2"), tag: text, job: undefined }),
          Effect.map(store.errors(other.deployment.id), (errors) => errors.filter((e) => e.message === "m2").map((e) => e.tag)),
          [text],
          Effect.void
        )
        yield* storedExactlyOrRefused(
          `job data value with ${name}`,
          store.setJobData(fenceOf(snapshot), "job-0", "k", { s: text }),
          store.getJobData(id, "job-0", "k"),
          Option.some({ s: text }),
          Effect.map(store.getJobData(id, "job-0", "k"), (value) => assert.isTrue(Option.isNone(value), name))
        )
        yield* storedExactlyOrRefused(
          `job data key with ${name}`,
          store.setJobData(fenceOf(snapshot), "job-0", `key-${text}`, 1),
          store.getJobData(id, "job-0", `key-${text}`),
          Option.some(1),
          Effect.map(store.getJobData(id, "job-0", `key-${text}`), (value) => assert.isTrue(Option.isNone(value), name))
        )
      }
    }))
}
