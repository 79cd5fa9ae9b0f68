/**
 * The CLI's entry point: runs the commands on the process's arguments and turns every outcome into an exit code:
 * - 0: success (also `--help` and `--version`);
 * - 1: usage: an unknown command or flag, a bad flag value, a missing argument, an invalid argument or option, no
 *   database URL (and any unexpected error);
 * - 2: not found or refused: no such deployment or action, a deployment that is not running, an operation that does
 *   not apply (`OperationRefused`) or that the process carrying out its request refused (`RequestRefused`, with
 *   `--wait`), stored data that does not decode, data the store refused;
 * - 3: store unavailable: the database cannot be reached, timed out, or lost a race;
 * - 4: `--wait` timed out (`WaitTimedOut`): the operation was not carried out, or the deployment did not rest, in
 *   time;
 * - 130: interrupted (Ctrl-C, SIGTERM).
 * Usage errors are printed by `effect/cli` with the command's help; the others as one line on stderr, or with
 * `--json` as one JSON object on stderr. The runtime's own logs go to stderr too, warnings and errors only unless
 * `--log-level` asks for more, so that stdout holds only the command's output.
 *
 * @internal
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Console, Effect, Exit, Logger, Predicate, References } from "effect"
import { CliError, Command } from "effect/cli"
import { createRequire } from "node:module"
import { cli } from "./commands.ts"

// The package's own manifest, by its name (the package exports it), so that it is found from the sources and from
// the built `dist/` alike.
const version: string = (createRequire(import.meta.url)("effect-actions/package.json") as { readonly version: string })
  .version

const notFoundOrRefused = new Set([
  "DeploymentNotFound",
  "DeploymentNotRunning",
  "ActionNotFound",
  "StoredDataCorrupt",
  "InputValidationError",
  "OperationRefused",
  "RequestRefused"
])
const usage = new Set(["InvalidArgument", "InvalidOption", "MissingDatabase", "MissingDriver"])

const tagOf = (error: unknown): string | undefined =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : undefined

/** The exit code of a failure. */
export const exitCodeOf = (error: unknown): number => {
  const tag = tagOf(error)
  if (tag === undefined) return 1
  if (usage.has(tag)) return 1
  if (notFoundOrRefused.has(tag)) return 2
  if (tag === "WaitTimedOut") return 4
  if (tag === "PersistenceError") {
    return Predicate.hasProperty(error, "reason") && error.reason === "invalid" ? 2 : 3
  }
  if (tag === "SqlError") return 3
  return 1
}

const missingTables = /relation "[^"]*" does not exist/

const messageOf = (error: unknown): string => {
  const message = Predicate.hasProperty(error, "message") && typeof error.message === "string" && error.message !== ""
    ? error.message
    : String(error)
  return missingTables.test(message)
    ? `${message}: the store has no tables with this prefix (check --prefix, or create them with effect-actions migrate)`
    : message
}

/** The error as JSON: its tag, its message, and its fields (not its cause). */
const errorJson = (error: unknown): string => {
  const fields: Record<string, unknown> = {}
  if (Predicate.isObject(error)) {
    for (const [key, value] of Object.entries(error)) if (key !== "cause" && key !== "stack") fields[key] = value
  }
  return JSON.stringify({ _tag: tagOf(error) ?? "Error", message: messageOf(error), ...fields })
}

const wantsJson = (argv: ReadonlyArray<string>): boolean => argv.includes("--json")

/** Runs the CLI on `argv` (without node and the script); succeeds with the exit code. */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, NodeServices.NodeServices> =>
  Command.runWith(cli, { version })(argv).pipe(
    // stdout holds the command's output (one JSON document with --json); the runtime's logs go to stderr, from
    // warnings up unless --log-level says otherwise.
    Effect.provideService(References.MinimumLogLevel, "Warn"),
    Effect.provideService(Logger.LogToStderr, true),
    Effect.as(0),
    Effect.catchCause((cause) => {
      if (Cause.hasInterruptsOnly(cause)) return Effect.succeed(130)
      const error = Cause.squash(cause)
      // effect/cli printed usage errors already, with the help of the command.
      if (CliError.isCliError(error)) return Effect.succeed(1)
      const code = Cause.hasFails(cause) ? exitCodeOf(error) : 1
      const line = wantsJson(argv) ? errorJson(error) : `effect-actions: ${messageOf(error)}`
      return Effect.as(Console.error(line), code)
    })
  )

/** Runs the CLI on the process's arguments and exits with its code. */
export const main = (): void =>
  run(process.argv.slice(2)).pipe(
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain({
      disableErrorReporting: true,
      teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? exit.value as number : Cause.hasInterruptsOnly(exit.cause) ? 130 : 1)
    })
  )
