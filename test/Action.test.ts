import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Action, Job, State } from "effect-actions"
import { makeLog, step } from "./support/jobs.ts"

describe("Action", () => {
  it("keeps its name, its jobs in order, its state and a fingerprint of the job names", () => {
    const log = makeLog()
    const Count = State.make("Count", { schema: Schema.Number, initial: 0 })
    const action = Action.make("deploy", [step("a", log), step("b", log)], { state: Count })
    assert.strictEqual(action.name, "deploy")
    assert.deepStrictEqual(action.jobs.map((job) => job.name), ["a", "b"])
    assert.strictEqual(action.state, Count)
    assert.strictEqual(action.fingerprint, "[\"a\",\"b\"]")
  })

  it("gives different fingerprints to job lists that a plain concatenation would confuse", () => {
    assert.notStrictEqual(Action.fingerprintOf([{ name: "ab" }, { name: "c" }]), Action.fingerprintOf([{ name: "a" }, { name: "bc" }]))
  })

  it.effect("validate accepts a non-empty list of uniquely named jobs", () =>
    Effect.gen(function*() {
      const log = makeLog()
      const action = Action.make("deploy", [step("a", log), step("a", log).pipe(Job.rename("b"))])
      assert.strictEqual(yield* Action.validate(action), action)
    }))

  it.effect("validate refuses duplicate job names with DuplicateJobName", () =>
    Effect.gen(function*() {
      const log = makeLog()
      const error = yield* Effect.flip(Action.validate(Action.make("deploy", [step("a", log), step("b", log), step("a", log)])))
      assert.strictEqual(error._tag, "DuplicateJobName")
      if (error._tag === "DuplicateJobName") assert.strictEqual(error.job, "a")
      assert.include(error.message, "Job.rename")
    }))

  it.effect("validate refuses an empty job list (possible only through an untyped list) with EmptyJobSequence", () =>
    Effect.gen(function*() {
      const jobs: ReadonlyArray<Job.Any> = []
      const action = Action.make("nothing", jobs as unknown as [Job.Any])
      const error = yield* Effect.flip(Action.validate(action))
      assert.strictEqual(error._tag, "EmptyJobSequence")
    }))
})
