/**
 * The CLI's operator operations: `stop`, `retry`, `rollback` and `retry-rollback` on one deployment (`<id>`) or, with
 * filters instead of an id, on every deployment that matches (`Actions.bulk`; `--dry-run` only counts and lists
 * them), and `restart <id>`.
 *
 * The CLI has no action registered, so every operation but the stop of a running deployment is recorded as a
 * request on the deployment (outcome `requested`), which a process that has the action carries out at its next
 * recovery pass. `--wait` then follows the deployment until the request is carried out and the deployment rests
 * (`wait.ts`). An id together with filters, or neither, is a usage error, as are the flags of one form used in the
 * other (`--dry-run` with an id; `--input` or `--wait` with filters).
 *
 * @internal
 */
import { DateTime, Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { ActionsShape, BulkFilter, OperationReceipt } from "../../Actions.ts"
import type { InvalidArgument } from "../../ActionError.ts"
import { DeploymentStatus, type Operation } from "../../Deployment.ts"
import * as OperatorApi from "../../OperatorApi.ts"
import { durationSyntax, parseDurationMillis } from "../durationText.ts"
import { context, invalid, printJson, withActions } from "./context.ts"
import { bulkSummary, receiptLine, waitedLines } from "./render.ts"
import { waitFor } from "./wait.ts"

/** How often `--wait` reads the deployment. */
const pollMillis = 500

/** The commands, by the operation they apply. */
const commandOf: Record<Operation, string> = {
  stop: "stop",
  retry: "retry",
  rollback: "rollback",
  retry_rollback: "retry-rollback",
  restart: "restart"
}

/** What `--json` prints after `--wait`: the receipt, how the operation ended, and the deployment as it rests. */
const WaitedView = Schema.Struct({
  receipt: OperatorApi.OperationReceipt,
  outcome: Schema.Literal("done"),
  entry: OperatorApi.HistoryEntryView,
  deployment: OperatorApi.DeploymentView
})

/** An example of the help, for a deployment id like the ones the CLI prints. */
const example = (args: string, description: string) => ({
  command: `effect-actions ${args.replace("<id>", "5d791f20-a12c-431e-a27b-983dbba15f7d")}`,
  description
})

const optionalId = Argument.String("id").pipe(
  Argument.withDescription("The deployment's id; leave it out and give filters to apply the operation in bulk"),
  Argument.optional
)

const reasonFlag = Flag.String("reason").pipe(
  Flag.withDescription("Why (kept in the deployment's history, at most 4096 characters)"),
  Flag.optional
)

const waitFlags = {
  wait: Flag.Boolean("wait").pipe(
    Flag.withDescription(
      "Wait until the operation is carried out and the deployment rests (paused or finished; for restart, the new " +
        "deployment), polling every 500 ms, then print its final status"
    ),
    Flag.withDefault(false)
  ),
  timeout: Flag.String("timeout").pipe(
    Flag.withDescription("How long --wait waits (60s, 5m, ...); then it exits 4"),
    Flag.withDefault("60s")
  )
}

const filterFlags = {
  status: Flag.Literals("status", DeploymentStatus.literals).pipe(
    Flag.withDescription(
      "Bulk: deployments in this status (repeat for several; the statuses the operation applies to by default)"
    ),
    Flag.atLeast(0)
  ),
  application: Flag.String("application").pipe(Flag.withDescription("Bulk: this application's deployments"), Flag.optional),
  action: Flag.String("action").pipe(Flag.withDescription("Bulk: this action's deployments"), Flag.optional),
  createdBefore: Flag.String("created-before").pipe(
    Flag.withDescription("Bulk: deployments created before this time (ISO 8601, such as 2026-12-01T10:00:00Z)"),
    Flag.optional
  ),
  createdAfter: Flag.String("created-after").pipe(
    Flag.withDescription("Bulk: deployments created at or after this time (ISO 8601)"),
    Flag.optional
  ),
  dryRun: Flag.Boolean("dry-run").pipe(
    Flag.withDescription("Bulk: only count and list the deployments the operation would apply to"),
    Flag.withDefault(false)
  )
}

interface WaitOptions {
  readonly wait: boolean
  readonly timeout: string
}

interface FilterOptions {
  readonly status: ReadonlyArray<DeploymentStatus>
  readonly application: Option.Option<string>
  readonly action: Option.Option<string>
  readonly createdBefore: Option.Option<string>
  readonly createdAfter: Option.Option<string>
  readonly dryRun: boolean
}

/** A time given to a filter flag. */
const time = (command: string, flag: string, text: Option.Option<string>) =>
  Effect.suspend(() => {
    if (Option.isNone(text)) return Effect.succeed(undefined)
    const parsed = /^\d{4}-\d\d-\d\d/.test(text.value) ? DateTime.make(text.value) : Option.none()
    return Option.isSome(parsed)
      ? Effect.succeed(DateTime.toUtc(parsed.value))
      : Effect.fail(
        invalid(command, flag, `expected an ISO 8601 time such as 2026-12-01T10:00:00Z, got ${JSON.stringify(text.value)}`)
      )
  })

const timeoutOf = (command: string, text: string) =>
  Effect.suspend(() => {
    const millis = parseDurationMillis(text)
    return Option.isSome(millis) && millis.value > 0
      ? Effect.succeed(millis.value)
      : Effect.fail(invalid(command, "--timeout", `expected ${durationSyntax}, above zero; got ${JSON.stringify(text)}`))
  })

/** The flags of the bulk form that were given. */
const filtersGiven = (options: FilterOptions): ReadonlyArray<string> => [
  ...(options.status.length > 0 ? ["--status"] : []),
  ...(Option.isSome(options.application) ? ["--application"] : []),
  ...(Option.isSome(options.action) ? ["--action"] : []),
  ...(Option.isSome(options.createdBefore) ? ["--created-before"] : []),
  ...(Option.isSome(options.createdAfter) ? ["--created-after"] : [])
]

/**
 * Applies one operation to one deployment and prints its receipt; with `--wait`, waits for it and prints how it
 * ended.
 */
const applyOne = <E>(
  operation: Operation,
  wait: WaitOptions,
  apply: (actions: ActionsShape) => Effect.Effect<OperationReceipt, E>
) =>
  Effect.gen(function*() {
    const { flags, print, style } = yield* context
    const command = commandOf[operation]
    const timeoutMillis = yield* timeoutOf(command, wait.timeout)
    return yield* withActions((actions) =>
      Effect.gen(function*() {
        const receipt = yield* apply(actions)
        if (!wait.wait) {
          if (flags.json) return yield* printJson(OperatorApi.OperationReceipt, receipt)
          return yield* print(receiptLine(command, receipt, { waiting: false }))
        }
        if (!flags.json) {
          yield* print(receiptLine(command, receipt, { waiting: true }))
          yield* print(style.dim(`waiting until it is carried out and the deployment rests (at most ${wait.timeout})...`))
        }
        const waited = yield* waitFor(actions, receipt, { timeoutMillis, timeoutText: wait.timeout, pollMillis })
        if (flags.json) return yield* printJson(WaitedView, { receipt, outcome: "done", ...waited })
        yield* print(waitedLines(style, receipt, waited))
      })
    )
  })

/** Applies an operation to every deployment that matches the filters, and prints what it did. */
const applyBulk = (
  operation: Exclude<Operation, "restart">,
  filter: FilterOptions,
  reason: Option.Option<string>
) =>
  Effect.gen(function*() {
    const { flags, print, style } = yield* context
    const command = commandOf[operation]
    const createdBefore = yield* time(command, "--created-before", filter.createdBefore)
    const createdAfter = yield* time(command, "--created-after", filter.createdAfter)
    const bulkFilter: BulkFilter = {
      ...(filter.status.length === 0 ? {} : { statuses: filter.status }),
      ...Option.match(filter.application, { onNone: () => ({}), onSome: (application) => ({ application }) }),
      ...Option.match(filter.action, { onNone: () => ({}), onSome: (action) => ({ action }) }),
      ...(createdBefore === undefined ? {} : { createdBefore }),
      ...(createdAfter === undefined ? {} : { createdAfter })
    }
    const result = yield* withActions((actions) =>
      actions.bulk({
        operation,
        filter: bulkFilter,
        dryRun: filter.dryRun,
        ...Option.match(reason, { onNone: () => ({}), onSome: (text) => ({ reason: text }) })
      })
    )
    if (flags.json) return yield* printJson(OperatorApi.BulkResultView, result)
    yield* print(bulkSummary(style, command, result))
  })

/**
 * Checks which form a command is used in: one deployment (an id, no filter, no `--dry-run`) or bulk (filters, no id,
 * no flag of the one-deployment form).
 */
type Form = { readonly _tag: "One"; readonly id: string } | { readonly _tag: "Bulk" }

const formOf = (
  command: string,
  id: Option.Option<string>,
  filter: FilterOptions,
  oneOnly: ReadonlyArray<readonly [flag: string, given: boolean]>
) =>
  Effect.suspend((): Effect.Effect<Form, InvalidArgument> => {
    const filters = filtersGiven(filter)
    if (Option.isSome(id)) {
      if (filters.length > 0) {
        const issue = `give a deployment id or filters, not both (got <id> and ${filters.join(", ")})`
        return Effect.fail(invalid(command, filters[0]!, issue))
      }
      if (filter.dryRun) {
        return Effect.fail(invalid(command, "--dry-run", "applies to the bulk form (filters instead of an id)"))
      }
      return Effect.succeed({ _tag: "One", id: id.value })
    }
    if (filters.length === 0) {
      return Effect.fail(invalid(
        command,
        "<id>",
        "give a deployment id, or filters (--status, --application, --action, --created-before, --created-after) " +
          "to apply it in bulk"
      ))
    }
    const misplaced = oneOnly.find(([, given]) => given)
    if (misplaced !== undefined) {
      return Effect.fail(invalid(command, misplaced[0], "applies to one deployment (an id), not to the bulk form"))
    }
    return Effect.succeed({ _tag: "Bulk" })
  })

const reasonOption = (reason: Option.Option<string>): { readonly reason?: string } =>
  Option.match(reason, { onNone: () => ({}), onSome: (text) => ({ reason: text }) })

/** A command of an operation that has a bulk form: `stop`, `rollback`, `retry-rollback`. */
const withBulkForm = <E>(
  operation: "stop" | "rollback" | "retry_rollback",
  apply: (actions: ActionsShape, id: string, options: { readonly reason?: string }) => Effect.Effect<OperationReceipt, E>
) =>
  Command.make(commandOf[operation], { id: optionalId, reason: reasonFlag, ...waitFlags, ...filterFlags }, (options) =>
    Effect.gen(function*() {
      const form = yield* formOf(commandOf[operation], options.id, options, [["--wait", options.wait]])
      if (form._tag === "Bulk") return yield* applyBulk(operation, options, options.reason)
      return yield* applyOne(operation, options, (actions) => apply(actions, form.id, reasonOption(options.reason)))
    }))

const stop = withBulkForm("stop", (actions, id, options) => actions.stop(id, options)).pipe(
  Command.withDescription(
    "Stop a running deployment wherever it runs (its jobs roll back), or roll a paused one back with ExecutionStopped; " +
      "with filters instead of an id, every matching running or paused deployment"
  ),
  Command.withExamples([
    example("stop <id> --reason 'wrong region' --wait", "Stop one and wait until it rolled back"),
    example("stop --status running --action deploy-app --dry-run", "Count and list what a bulk stop would stop")
  ])
)

const rollback = withBulkForm("rollback", (actions, id, options) => actions.rollback(id, options)).pipe(
  Command.withDescription(
    "Roll a paused deployment back, as if its failed job had failed now; with filters instead of an id, every " +
      "matching paused deployment"
  ),
  Command.withExamples([
    example("rollback <id> --wait", "Roll one back and wait for the outcome"),
    example(
      "rollback --status paused --application shop --reason 'incident 42'",
      "Roll back every paused deployment of an application"
    )
  ])
)

const retryRollback = withBulkForm("retry_rollback", (actions, id, options) => actions.retryRollback(id, options)).pipe(
  Command.withDescription(
    "Run the failed rollbacks of a rollback_failed deployment again, in reverse order; with filters instead of an id, " +
      "every matching rollback_failed deployment"
  ),
  Command.withExamples([
    example("retry-rollback <id> --wait", "Retry its failed rollbacks and wait")
  ])
)

const retry = Command.make("retry", {
  id: optionalId,
  input: Flag.String("input").pipe(
    Flag.withDescription("A replacement input for the failed job, as JSON text (decoded by the job's input schema)"),
    Flag.optional
  ),
  inputFile: Flag.FileText("input-file").pipe(
    Flag.withDescription("A replacement input for the failed job, read as JSON from a file"),
    Flag.optional
  ),
  reason: reasonFlag,
  ...waitFlags,
  ...filterFlags
}, (options) =>
  Effect.gen(function*() {
    const form = yield* formOf("retry", options.id, options, [
      ["--input", Option.isSome(options.input)],
      ["--input-file", Option.isSome(options.inputFile)],
      ["--wait", options.wait]
    ])
    if (form._tag === "Bulk") return yield* applyBulk("retry", options, options.reason)
    if (Option.isSome(options.input) && Option.isSome(options.inputFile)) {
      return yield* invalid("retry", "--input", "give --input or --input-file, not both")
    }
    const input = yield* Option.match(Option.orElse(
      Option.map(options.input, (text) => ["--input", text] as const),
      () => Option.map(options.inputFile, (text) => ["--input-file", text] as const)
    ), {
      onNone: () => Effect.succeed({}),
      onSome: ([flag, text]) =>
        Effect.try({
          try: () => ({ input: JSON.parse(text) as unknown }),
          catch: (error) =>
            invalid("retry", flag, `expected JSON text: ${error instanceof Error ? error.message : String(error)}`)
        })
    })
    return yield* applyOne("retry", options, (actions) =>
      actions.retry(form.id, { ...reasonOption(options.reason), ...input }))
  })).pipe(
    Command.withDescription(
      "Run the failed job of a paused deployment again (with its own input, or a replacement), then on forward; " +
        "with filters instead of an id, every matching paused deployment"
    ),
    Command.withExamples([
      example("retry <id> --input '{\"n\":12}' --wait", "Retry with a new input and wait for the outcome"),
      example("retry --status paused --action deploy-app --dry-run", "Count and list what a bulk retry would retry")
    ])
  )

const restart = Command.make("restart", {
  id: Argument.String("id").pipe(Argument.withDescription("The finished deployment to start again")),
  key: Flag.String("key").pipe(Flag.withDescription("The new deployment's key (none by default)"), Flag.optional),
  reason: reasonFlag,
  ...waitFlags
}, (options) =>
  applyOne("restart", options, (actions) =>
    actions.restart(options.id, {
      ...reasonOption(options.reason),
      ...Option.match(options.key, { onNone: () => ({}), onSome: (key) => ({ key }) })
    }))).pipe(
    Command.withDescription(
      "Start a new deployment of a finished deployment's action with the same first input, linked to it (restartOf)"
    ),
    Command.withExamples([
      example("restart <id> --key web-2 --wait", "Restart and wait until the new deployment rests")
    ])
  )

/** The operation commands, in the order the help lists them. */
export const operationCommands = [stop, retry, rollback, retryRollback, restart] as const
