/**
 * `retry`: the failed job of a paused deployment runs again, with its input, a replacement, or an input made again
 * from the previous job's output, after this process takes the deployment over.
 *
 * @internal
 */
import { Effect } from "effect"
import { StoredDataCorrupt } from "../ActionError.ts"
import type { Snapshot } from "../DeploymentStore.ts"
import { describeSchemaError } from "./codec.ts"
import {
  type Applied,
  checkpointOf,
  historyRow,
  invalidInput,
  type OperationsContext,
  progressFor,
  refusedBy
} from "./operationContext.ts"
import { takeOver } from "./operationTakeOver.ts"
import type { Registration } from "./registration.ts"
import { next } from "./transitions.ts"

/** `retry`: the failed job of a paused deployment runs again, with its input, a replacement, or the previous output. */
export const retryHere = (ctx: OperationsContext, applied: Applied, reg: Registration, snapshot: Snapshot, at: number) =>
  Effect.gen(function*() {
    const row = snapshot.deployment
    const index = row.currentJob
    const compiled = reg.jobs[index]!
    const record = snapshot.jobs[index]!
    const progress = progressFor(reg, snapshot)
    // Whether it applies is judged before any input is made (a job without an input gets one made below).
    const stored = next(progress, { _tag: "Retry", at, input: record.input })
    if (stored._tag === "Refused" && stored.reason !== "input") return yield* refusedBy(applied, row, stored)
    const replaced = applied.input !== undefined
    const retried = !replaced && stored._tag === "Next"
      ? stored
      : next(progress, { _tag: "Retry", at, input: yield* retryInput(applied, reg, snapshot) })
    const checkpoint = yield* checkpointOf(applied, row, retried)
    return yield* takeOver(ctx, applied, reg, row, at, {
      checkpoint,
      history: historyRow(ctx, applied, "done", at, {
        job: compiled.job.name,
        ...(replaced
          ? {
            message: "with a replacement input",
            detail: { replacedInput: record.input === undefined ? null : record.input }
          }
          : {})
      })
    })
  })

/** The input a retried job runs with: the replacement, or made again from the previous job's output. */
const retryInput = (applied: Applied, reg: Registration, snapshot: Snapshot) =>
  Effect.gen(function*() {
    const row = snapshot.deployment
    const index = row.currentJob
    const compiled = reg.jobs[index]!
    if (applied.input !== undefined) {
      const decoded = yield* Effect.mapError(compiled.input.decode(applied.input.value), invalidInput(reg, index))
      return yield* Effect.mapError(compiled.input.encode(decoded), invalidInput(reg, index))
    }
    const record = snapshot.jobs[index]!
    if (record.input !== undefined) return record.input
    // The job failed before it got an input (the previous output did not fit it): it is made again.
    const previous = reg.jobs[index - 1]!
    const output = yield* Effect.mapError(
      previous.output.decode(snapshot.jobs[index - 1]!.output),
      (error) =>
        new StoredDataCorrupt({
          deploymentId: row.id,
          job: previous.job.name,
          field: "output",
          issue: describeSchemaError(error).issue
        })
    )
    const input = yield* Effect.mapError(compiled.input.encode(output), invalidInput(reg, index))
    yield* Effect.mapError(compiled.input.decode(input), invalidInput(reg, index))
    return input
  })
