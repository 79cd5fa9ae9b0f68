/**
 * Group commit (`internal/groupCommit.ts`): a lone write goes out alone and at once, writes that arrive while
 * others are in flight go out together, each write gets its own result, and a batch failure that may be one write's
 * is retried write by write.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option } from "effect"
import { makeGroupCommit } from "../src/internal/groupCommit.ts"

interface Write {
  readonly key: string
  readonly value: number
}

/** A group commit over a log of the statements it made; `gate`, when set, holds every statement until opened. */
const recorded = (options: {
  readonly maxBatch?: number
  readonly writers?: number
  readonly manyFails?: "retryable" | "final" | "defect"
  readonly gate?: Deferred.Deferred<void>
}) => {
  const statements: Array<ReadonlyArray<string>> = []
  const held = <A>(effect: Effect.Effect<A, string>) =>
    options.gate === undefined ? effect : Effect.andThen(Deferred.await(options.gate), effect)
  const write = makeGroupCommit<Write, number, string>({
    maxBatch: options.maxBatch ?? 100,
    writers: options.writers ?? 1,
    keyOf: (write) => write.key,
    one: (write) =>
      held(Effect.suspend(() => {
        statements.push([write.key])
        return write.value < 0 ? Effect.fail(`refused ${write.key}`) : Effect.succeed(write.value * 10)
      })),
    many: (writes) =>
      held(Effect.suspend(() => {
        statements.push(writes.map((write) => write.key))
        if (options.manyFails === "retryable") return Effect.fail("retryable")
        if (options.manyFails === "final") return Effect.fail("connection lost")
        if (options.manyFails === "defect") return Effect.die(new Error("driver bug"))
        return Effect.succeed(writes.map((write) => write.value < 0 ? Exit.fail(`fenced ${write.key}`) : Exit.succeed(write.value * 10)))
      })),
    retryAlone: (error) => error === "retryable"
  })
  return { statements, write }
}

const errorOf = (exit: Exit.Exit<unknown, string>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined

describe("group commit", () => {
  it.effect("writes a lone write alone, at once", () =>
    Effect.gen(function*() {
      const { statements, write } = recorded({})
      assert.strictEqual(yield* write({ key: "a", value: 1 }), 10)
      assert.strictEqual(yield* write({ key: "a", value: 2 }), 20)
      assert.deepStrictEqual(statements, [["a"], ["a"]])
    }))

  it.effect("writes the writes that arrive during a statement together in the next, each with its own result", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { statements, write } = recorded({ gate })
      const first = yield* Effect.forkChild(write({ key: "a", value: 1 }))
      yield* Effect.yieldNow
      const rest = yield* Effect.forkChild(
        Effect.forEach(["b", "c", "d"], (key, i) => Effect.exit(write({ key, value: i === 1 ? -1 : i + 2 })), {
          concurrency: "unbounded"
        })
      )
      yield* Effect.yieldNow
      yield* Deferred.succeed(gate, undefined)
      assert.strictEqual(yield* Fiber.join(first), 10)
      const exits = yield* Fiber.join(rest)
      assert.deepStrictEqual(statements, [["a"], ["b", "c", "d"]])
      assert.deepStrictEqual(exits.map((exit) => Exit.isSuccess(exit) ? exit.value : errorOf(exit)), [20, "fenced c", 40])
    }))

  it.effect("never puts two writes of one key in one batch, and keeps each key's order", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { statements, write } = recorded({ gate })
      const fiber = yield* Effect.forkChild(
        Effect.forEach([["x", 1], ["y", 2], ["x", 3], ["x", 4], ["y", 5]] as const, ([key, value]) => write({ key, value }), {
          concurrency: "unbounded"
        })
      )
      yield* Effect.yieldNow
      yield* Deferred.succeed(gate, undefined)
      assert.deepStrictEqual(yield* Fiber.join(fiber), [10, 20, 30, 40, 50])
      // all five were queued before the writer began: one of each key per statement, in arrival order
      assert.deepStrictEqual(statements, [["x", "y"], ["x", "y"], ["x"]])
    }))

  it.effect("takes at most maxBatch writes per statement", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { statements, write } = recorded({ gate, maxBatch: 2 })
      const fiber = yield* Effect.forkChild(
        Effect.forEach(["a", "b", "c", "d", "e", "f"], (key) => write({ key, value: 1 }), { concurrency: "unbounded" })
      )
      yield* Effect.yieldNow
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.await(fiber)
      assert.deepStrictEqual(statements, [["a", "b"], ["c", "d"], ["e", "f"]])
    }))

  it.effect("writes each write of a batch alone when the batch fails for a reason that may be one write's", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { statements, write } = recorded({ gate, manyFails: "retryable" })
      const fiber = yield* Effect.forkChild(
        Effect.forEach(["a", "b", "c"], (key, i) => Effect.exit(write({ key, value: i === 2 ? -1 : 1 })), {
          concurrency: "unbounded"
        })
      )
      yield* Effect.yieldNow
      yield* Deferred.succeed(gate, undefined)
      const exits = yield* Fiber.join(fiber)
      assert.deepStrictEqual(statements, [["a", "b", "c"], ["a"], ["b"], ["c"]])
      assert.deepStrictEqual(exits.map((exit) => Exit.isSuccess(exit) ? exit.value : errorOf(exit)), [10, 10, "refused c"])
    }))

  it.effect("fails every write of the batch with a failure that is nobody's own, and with a defect", () =>
    Effect.gen(function*() {
      for (const manyFails of ["final", "defect"] as const) {
        const gate = yield* Deferred.make<void>()
        const { statements, write } = recorded({ gate, manyFails })
        const fiber = yield* Effect.forkChild(
          Effect.forEach(["a", "b", "c"], (key) => Effect.exit(write({ key, value: 1 })), { concurrency: "unbounded" })
        )
        yield* Effect.yieldNow
        yield* Deferred.succeed(gate, undefined)
        const exits = yield* Fiber.join(fiber)
        assert.deepStrictEqual(statements, [["a", "b", "c"]], manyFails)
        for (const exit of exits) {
          assert.isTrue(Exit.isFailure(exit), manyFails)
          if (manyFails === "final") assert.strictEqual(errorOf(exit), "connection lost")
          else assert.isTrue(Exit.hasDies(exit), "the defect reaches each write")
        }
      }
    }))

  it.effect("finishes a batch whose first caller was interrupted while it waited, for the other writes", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { statements, write } = recorded({ gate })
      const first = yield* Effect.forkChild(write({ key: "a", value: 1 }))
      yield* Effect.yieldNow
      const second = yield* Effect.forkChild(write({ key: "b", value: 2 }))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(first)
      yield* Deferred.succeed(gate, undefined)
      assert.strictEqual(yield* Fiber.join(second), 20)
      // and the group commit still takes writes afterwards
      assert.strictEqual(yield* write({ key: "c", value: 3 }), 30)
      assert.deepStrictEqual(statements, [["a"], ["b"], ["c"]])
    }))
})
