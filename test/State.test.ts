import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import { State } from "effect-actions"

const Count = State.make("Count", { schema: Schema.Number, initial: 0 })

const withCell = <A, E>(effect: Effect.Effect<A, E, State.Identifier<"Count">>, start: number) => {
  let value = start
  const cell: State.Cell<number> = { get: () => value, set: (next) => void (value = next) }
  return Effect.map(Effect.provideContext(effect, Context.make(Count.service, cell)), (result) => [result, value] as const)
}

describe("State", () => {
  it("keeps its key, schema and initial value", () => {
    assert.strictEqual(Count.key, "Count")
    assert.strictEqual(Count.initial, 0)
    assert.strictEqual(Count.schema, Schema.Number)
  })

  it.effect("get reads, set replaces, update and modify change the value of the running deployment's cell", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* withCell(Count.get, 3), [3, 3])
      assert.deepStrictEqual(yield* withCell(Count.set(9), 3), [undefined, 9])
      assert.deepStrictEqual(yield* withCell(Count.update((n) => n * 2), 3), [6, 6])
      assert.deepStrictEqual(yield* withCell(Count.modify((n) => [`was ${n}`, n + 1] as const), 3), ["was 3", 4])
    }))

  it("gives each state its own service key", () => {
    const Other = State.make("Other", { schema: Schema.Number, initial: 0 })
    assert.notStrictEqual(Other.service.key, Count.service.key)
  })
})
