/**
 * The package as a user installs it: what `npm pack` would publish, built (`npm run build`), placed in a project's
 * `node_modules`, where Node does not strip types. The library's entry points, the dashboard's files and the
 * `effect-actions` binary must load from the built JavaScript there, without the sources' export condition.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
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

/** The package's dependencies as npm installs them beside it; `@effect/sql-pg` is an optional peer. */
const dependencies = ["effect", "@effect/platform-node", "@effect/platform-node-shared", "@effect/sql-pg"]

/** A user's project with the package (built) and `installed` of its dependencies in `node_modules`; removed after. */
const withProject = (installed: ReadonlyArray<string>, use: (project: string, packageDir: string) => void) => {
  const project = mkdtempSync(join(tmpdir(), "effect-actions-consumer-"))
  try {
    const packageDir = join(project, "node_modules", "effect-actions")
    mkdirSync(packageDir, { recursive: true })
    for (const entry of [...manifest.files, "package.json"]) {
      cpSync(join(root, entry), join(packageDir, entry), { recursive: true })
    }
    for (const dependency of installed) {
      const target = join(project, "node_modules", dependency)
      mkdirSync(dirname(target), { recursive: true })
      symlinkSync(join(root, "node_modules", dependency), target)
    }
    use(project, packageDir)
  } finally {
    rmSync(project, { recursive: true, force: true })
  }
}

/** A user's script that runs a one-job action on the memory runtime, leaving its output in `output`. */
const memoryProgram = `import { Effect, Schema } from "effect"
import { Action, Actions, Job } from "effect-actions"
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
`

/** Builds the package once for the tests below (`npm run build`). */
let built = false
const build = () => {
  if (built) return
  execFileSync("npm", ["run", "build"], { cwd: root, env: userEnvironment(), stdio: "pipe" })
  built = true
}

describe("the installed package", () => {
  it("loads its entry points and runs its binary from node_modules, built, without the sources", { timeout: 120_000 }, () => {
    build()
    withProject(dependencies, (project, installed) => {
      const script = join(project, "run.mjs")
      writeFileSync(
        script,
        `import { Dashboard, OperatorHttp } from "effect-actions/http"
import { existsSync } from "node:fs"
${memoryProgram}// the conformance suite needs vitest to run: here, only where it resolves
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
    })
  })

  it("works without its optional peer @effect/sql-pg: the memory runtime runs, and the CLI says what it needs", { timeout: 120_000 }, () => {
    build()
    withProject(dependencies.filter((dependency) => dependency !== "@effect/sql-pg"), (project, installed) => {
      const script = join(project, "run.mjs")
      writeFileSync(script, `${memoryProgram}console.log(JSON.stringify(output))\n`)
      const ran = execFileSync(process.execPath, [script], { cwd: project, env: userEnvironment(), encoding: "utf8" })
      assert.deepStrictEqual(JSON.parse(ran), { n: 2 })

      const bin = join(installed, manifest.bin["effect-actions"]!)
      const version = execFileSync(process.execPath, [bin, "--version"], { cwd: project, env: userEnvironment(), encoding: "utf8" })
      assert.match(version, /effect-actions v\d+\.\d+\.\d+/)
      const listed = spawnSync(process.execPath, [bin, "list", "--database-url", "postgres://nobody@127.0.0.1:1/none"], {
        cwd: project,
        env: userEnvironment(),
        encoding: "utf8"
      })
      assert.strictEqual(listed.status, 1, listed.stderr)
      assert.include(listed.stderr, "npm install @effect/sql-pg")
      assert.strictEqual(listed.stdout, "")
    })
  })
})
