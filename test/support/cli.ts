/**
 * Runs the real `effect-actions` binary in a child process (Node 24 runs its TypeScript), and collects its exit
 * code and output. A run that does not end within its timeout is killed and fails the test.
 */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

/** The binary, as package.json `bin` declares it. */
export const binPath = fileURLToPath(new URL("../../bin/effect-actions.ts", import.meta.url))

/** What a run printed, and how it ended. */
export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment of the child: this one's, with `DATABASE_URL` and `NO_COLOR` as given (undefined removes). */
const environment = (overrides: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.NO_COLOR
  delete env.DATABASE_URL
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

/** Spawns the binary; `command` defaults to Node with the binary's path (`npx` is tested with `command`). */
export const spawnCli = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Readonly<Record<string, string | undefined>>; readonly command?: readonly [string, ...Array<string>] } = {}
): ChildProcess => {
  const [command, ...prefix] = options.command ?? [process.execPath, binPath]
  return spawn(command, [...prefix, ...args], { env: environment(options.env ?? {}), stdio: ["ignore", "pipe", "pipe"] })
}

/** Runs the binary to its end (at most `timeout`). */
export const runCli = (
  args: ReadonlyArray<string>,
  options: {
    readonly env?: Readonly<Record<string, string | undefined>>
    readonly command?: readonly [string, ...Array<string>]
    readonly timeout?: number
  } = {}
): Effect.Effect<CliResult> =>
  Effect.callback<CliResult>((resume) => {
    const child = spawnCli(args, options)
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => void (stdout += chunk))
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk))
    child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
    child.on("error", (error) => resume(Effect.die(error)))
    return Effect.sync(() => void child.kill("SIGKILL"))
  }).pipe(
    Effect.timeoutOrElse({
      duration: options.timeout ?? 30_000,
      orElse: () => Effect.die(new Error(`effect-actions ${args.join(" ")} did not end in time`))
    })
  )

/** Asserts a run's exit code, showing what it printed when it is not the expected one. */
export const assertExit = (result: CliResult, code: number) =>
  assert.strictEqual(result.code, code, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`)

/** The JSON document a successful run printed. */
export const parseJson = (result: CliResult): Record<string, unknown> => {
  assertExit(result, 0)
  return JSON.parse(result.stdout) as Record<string, unknown>
}
