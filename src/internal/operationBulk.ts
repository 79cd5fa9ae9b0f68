/**
 * `bulk`: an operation applied to every deployment that matches a filter, read page by page and acted on a batch at
 * a time. A deployment the operation does not apply to is reported; a store failure stops the bulk operation.
 *
 * @internal
 */
import { Effect, Option } from "effect"
import type * as Actions from "../Actions.ts"
import { operate } from "./operationApply.ts"
import { appliesTo, type OperationsContext } from "./operationContext.ts"
import type { CheckedBulk } from "./validateOperations.ts"
import { retryTransient } from "./transient.ts"

/** How many deployments a bulk operation reads, and acts on, at a time. */
const bulkBatch = 100

/** How many deployments of a batch a bulk operation acts on at once. */
const bulkConcurrency = 8

/** The deployments a bulk operation applies to, read page by page. */
const matching = (ctx: OperationsContext, checked: CheckedBulk) =>
  Effect.gen(function*() {
    const ids: Array<string> = []
    let cursor: string | undefined
    do {
      const page = yield* retryTransient(ctx.env.store.list({
        statuses: checked.statuses ?? appliesTo[checked.operation],
        limit: bulkBatch,
        ...(checked.application === undefined ? {} : { application: checked.application }),
        ...(checked.action === undefined ? {} : { action: checked.action }),
        ...(checked.createdBefore === undefined ? {} : { createdBefore: checked.createdBefore }),
        ...(checked.createdAfter === undefined ? {} : { createdAfter: checked.createdAfter }),
        ...(cursor === undefined ? {} : { cursor })
      }))
      for (const item of page.items) ids.push(item.id)
      cursor = page.next
    } while (cursor !== undefined)
    return ids
  })

/** Applies an operation to every deployment that matches a filter, a batch at a time. */
export const bulk = (ctx: OperationsContext, checked: CheckedBulk) =>
  Effect.gen(function*() {
    const ids = yield* matching(ctx, checked)
    const result = { operation: checked.operation, dryRun: checked.dryRun, matched: ids.length, ids }
    if (checked.dryRun) return { ...result, items: [] }
    const items: Array<Actions.BulkItem> = []
    for (let start = 0; start < ids.length; start += bulkBatch) {
      const batch = ids.slice(start, start + bulkBatch)
      const done = yield* Effect.forEach(batch, (deploymentId) =>
        operate(ctx, checked.operation, { deploymentId, reason: checked.reason, input: undefined, key: undefined }).pipe(
          Effect.map((receipt): Actions.BulkItem => ({ deploymentId, outcome: receipt.outcome, message: Option.none() })),
          // A deployment the operation does not apply to is reported; a store failure stops the bulk operation
          // (what was done stays done, and no longer matches when it is run again).
          Effect.catchIf(
            (error) => error._tag !== "PersistenceError",
            (error): Effect.Effect<Actions.BulkItem> =>
              Effect.succeed({ deploymentId, outcome: "refused", message: Option.some(error.message) })
          )
        ), { concurrency: bulkConcurrency })
      items.push(...done)
    }
    return { ...result, items }
  })
