import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { Deployment } from "effect-actions"
import { makeSnapshot } from "effect-actions/testing"

describe("Deployment", () => {
  it("tells terminal statuses, successes and failures apart by status alone", () => {
    const statuses: ReadonlyArray<Deployment.DeploymentStatus> = [
      "running",
      "succeeded",
      "rolling_back",
      "rolled_back",
      "rollback_failed",
      "paused"
    ]
    assert.deepStrictEqual(statuses.map(Deployment.isTerminal), [false, true, false, true, true, false])
    assert.deepStrictEqual(statuses.map(Deployment.isResting), [false, true, false, true, true, true])
    assert.deepStrictEqual(statuses.map((status) => Deployment.isSucceeded({ status })), [false, true, false, false, false, false])
    assert.deepStrictEqual(statuses.map((status) => Deployment.isFailed({ status })), [false, false, false, true, true, false])
  })

  it.effect("decodes a stored row into the public record, and encodes it back to the same row", () =>
    Effect.gen(function*() {
      const snapshot = makeSnapshot({ key: "k" })
      const row = { ...snapshot.deployment, jobs: snapshot.jobs, history: [] }
      const deployment = yield* Schema.decodeUnknownEffect(Deployment.Deployment)(row)
      assert.deepStrictEqual(deployment.key, Option.some("k"))
      assert.strictEqual(deployment.createdAt.epochMilliseconds, snapshot.deployment.createdAt)
      assert.deepStrictEqual(deployment.jobs[1]!.input, Option.none())
      const encoded = yield* Schema.encodeEffect(Deployment.Deployment)(deployment)
      // a job's earlier attempts, absent from a stored row, decode as none and encode as an empty list
      assert.deepStrictEqual(encoded, { ...row, jobs: row.jobs.map((job) => ({ ...job, earlierAttempts: [] })) })
    }))

  it.effect("refuses a row with an unknown status", () =>
    Effect.gen(function*() {
      const snapshot = makeSnapshot()
      const row = { ...snapshot.deployment, status: "finished", jobs: snapshot.jobs }
      const exit = yield* Effect.exit(Schema.decodeUnknownEffect(Deployment.Deployment)(row))
      assert.strictEqual(exit._tag, "Failure")
    }))
})
