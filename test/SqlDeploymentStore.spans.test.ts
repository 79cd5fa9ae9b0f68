import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Tracer } from "effect"
import { Action, Actions } from "effect-actions"
import { makeLog, step } from "./support/jobs.ts"
import { PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"

type Recorded = {
  readonly name: string
  readonly spanId: string
  readonly kind: string
  readonly parent: Option.Option<{ readonly spanId: string }>
  readonly attributes: ReadonlyMap<string, unknown>
}

describe("SqlDeploymentStore spans", () => {
  it.live("opens a span per store operation, parent of effect/sql's statement span", () =>
    Effect.gen(function*() {
      const spans: Array<Recorded> = []
      const native = yield* Tracer.Tracer
      const recording = Tracer.make({
        span(options) {
          const span = native.span(options)
          spans.push(span as unknown as Recorded)
          return span
        }
      })
      const deploy = Action.make("deploy", [step("a", makeLog()), step("b", makeLog())])
      yield* Effect.gen(function*() {
        const actions = yield* Actions.Actions
        yield* actions.register(deploy, { application: "shop" })
        yield* actions.execute(deploy, { n: 0 }).pipe(Effect.withTracer(recording))
      }).pipe(
        Effect.provide(
          Actions.layer({ recovery: { enabled: false } }).pipe(
            Layer.provideMerge(storeLayer(uniquePrefix())),
            Layer.provideMerge(PgLive)
          )
        )
      )
      const byId = new Map(spans.map((span) => [span.spanId, span]))
      const parentName = (span: Recorded) =>
        Option.getOrUndefined(Option.map(span.parent, (parent) => byId.get(parent.spanId)?.name))
      const store = spans.filter((span) => span.name.startsWith("effect-actions.store."))
      assert.deepStrictEqual(
        store.map((span) => [span.name, parentName(span)]),
        [
          ["effect-actions.store.create", "Actions.execute"],
          ["effect-actions.store.checkpoint", "effect-actions.deployment"],
          ["effect-actions.store.checkpoint", "effect-actions.deployment"]
        ]
      )
      for (const operation of store) {
        const statements = spans.filter((span) =>
          Option.isSome(span.parent) && span.parent.value.spanId === operation.spanId
        )
        assert.strictEqual(statements.length, 1)
        assert.strictEqual(statements[0]!.kind, "client")
        assert.strictEqual(statements[0]!.attributes.get("db.system.name"), "postgresql")
      }
    }))
})
