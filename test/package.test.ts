/**
 * The package as a user installs it: what `npm pack` would publish, built (`npm run build`), placed in a project's
 * `node_modules`, where Node does not strip types. The library's entry points, the dashboard's files and the
 * `effect-actions` binary must load from the built JavaScript there, without the sources' export condition.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  readonly files: ReadonlyArray<string>
  readonly bin: Record<string, string>
}

/** The environment of a user's process: no source condition. */
const userEnvironment = (): NodeJS.ProcessEnv => {
  const { NODE_OPTIONS: _options, ...rest } = process.env
  return rest
}

describe("the installed package", () => {
  it("loads its entry points and runs its binary from node_modules, built, without the sources", { timeout: 120_000 }, () => {
    execFileSync("npm", ["run", "build"], { cwd: root, env: userEnvironment(), stdio: "pipe" })
    const project = mkdtempSync(join(tmpdir(), "effect-actions-consumer-"))
    try {
      const installed = join(project, "node_modules", "effect-actions")
      mkdirSync(installed, { recursive: true })
      for (const entry of [...manifest.files, "package.json"]) {
        cpSync(join(root, entry), join(installed, entry), { recursive: true })
      }
      // the package's dependencies, as npm would have installed them beside it
      for (const dependency of ["effect", "@effect/platform-node", "@effect/platform-node-shared", "@effect/sql-pg"]) {
        const target = join(project, "node_modules", dependency)
        mkdirSync(dirname(target), { recursive: true })
        symlinkSync(join(root, "node_modules", dependency), target)
      }
      const script = join(project, "run.mjs")
      writeFileSync(
        script,
        `import { Effect, Schema } from "effect"
import { Action, Actions, Job } from "effect-actions"
import { Dashboard, OperatorHttp } from "effect-actions/http"
import { existsSync } from "node:fs"
const one = Job.make("one", {
  input: Schema.Struct({ n: Schema.Number }),
  output: Schema.Struct({ n: Schema.Number }),
  execute: ({ n }) => Effect.succeed({ n: n + 1 })
})
const action = Action.make("a", [one])
const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  yield* actions.register(action)
  return (yield* actions.execute(action, { n: 1 })).output
})
const output = await Effect.runPromise(program.pipe(Effect.provide(Actions.layerMemory())))
// the conformance suite needs vitest to run: here, only where it resolves
const suite = import.meta.resolve("effect-actions/testing").replace(/^.*node_modules\\/effect-actions\\//, "")
const page = existsSync(new URL("index.html", Dashboard.assetsUrl))
console.log(JSON.stringify({ output, suite, http: typeof OperatorHttp.layer, page }))
`
      )
      const ran = execFileSync(process.execPath, [script], { cwd: project, env: userEnvironment(), encoding: "utf8" })
      assert.deepStrictEqual(JSON.parse(ran), {
        output: { n: 2 },
        suite: "dist/src/testing.js",
        http: "function",
        page: true
      })

      const bin = join(installed, manifest.bin["effect-actions"]!)
      const version = execFileSync(process.execPath, [bin, "--version"], { cwd: project, env: userEnvironment(), encoding: "utf8" })
      assert.match(version, /effect-actions v\d+\.\d+\.\d+/)
    } finally {
      rmSync(project, { recursive: true, force: true })
    }
  })
})
