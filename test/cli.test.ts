/**
 * The real `effect-actions` binary, spawned in child processes against PostgreSQL: deployments are created by a
 * runtime in this test process on the same tables; the tests assert the binary's stdout, stderr and exit codes.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer, Option, Schema } from "effect"
import { Actions, DeploymentStore } from "effect-actions"
import { OperatorApi } from "effect-actions/http"
import { makeSnapshot } from "effect-actions/testing"
import { SqlClient } from "effect/sql"
import { isDriverNotFound, MissingDriver } from "../src/internal/cli/connection.ts"
import { assertExit, binPath, parseJson, runCli, spawnCli } from "./support/cli.ts"
import { Explode, Hold, Provision, registerAll } from "./support/operator.ts"
import { databaseUrl, dropTables, PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"

const prefix = uniquePrefix()
const application = `cli-${crypto.randomUUID().slice(0, 8)}`

/** Runs the binary on this file's tables. */
const cli = (...args: Array<string>) => runCli(["--prefix", prefix, ...args], { env: { DATABASE_URL: databaseUrl } })

const parse = parseJson

/** Reads a deployment until `predicate` holds (at most 250 reads, 20 ms apart). */
const readUntil = (id: string, predicate: (deployment: Actions.DeploymentPage["items"][number]) => boolean) =>
  Effect.gen(function*() {
    const actions = yield* Actions.Actions
    for (let attempt = 0; attempt < 250; attempt++) {
      const deployment = yield* Effect.orDie(actions.get(id))
      if (predicate(deployment)) return deployment
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.die(new Error(`deployment ${id} never reached the expected state`))
  })

const TestLayer = Layer.effectDiscard(registerAll(application)).pipe(
  Layer.provideMerge(Actions.layer({ recovery: { enabled: false } })),
  Layer.provideMerge(storeLayer(prefix)),
  Layer.provideMerge(PgLive)
)

describe("effect-actions CLI", () => {
  layer(TestLayer, { excludeTestServices: true, timeout: "120 seconds" })("against PostgreSQL", (it) => {
    it.effect("prints its help and version with exit 0, through npx too", () =>
      Effect.gen(function*() {
        const help = yield* runCli(["--help"])
        assertExit(help, 0)
        for (const command of ["list", "show", "errors", "stop", "retry", "rollback", "retry-rollback", "restart", "prune", "migrate", "serve"]) {
          assert.match(help.stdout, new RegExp(`^\\s+${command}\\s`, "m"), `${command} in the help`)
        }
        assert.include(help.stdout, "--database-url")
        const listHelp = yield* runCli(["list", "--help"])
        assertExit(listHelp, 0)
        for (const flag of ["--status", "--application", "--action", "--limit", "--cursor", "--json"]) {
          assert.include(listHelp.stdout, flag)
        }
        const version = yield* runCli(["--version"])
        assertExit(version, 0)
        assert.match(version.stdout, /\d+\.\d+\.\d+/)
        // The package's bin, as a user runs it.
        const npx = yield* runCli(["--help"], { command: ["npx", "--no-install", "effect-actions"], timeout: 60_000 })
        assertExit(npx, 0)
        assert.include(npx.stdout, "SUBCOMMANDS")
      }), 120_000)

    it.effect("exits 1 on usage errors, saying what is wrong", () =>
      Effect.gen(function*() {
        const unknown = yield* runCli(["deploy"])
        assertExit(unknown, 1)
        assert.include(unknown.stdout + unknown.stderr, "Unknown subcommand")
        const badFlag = yield* cli("list", "--limit", "many")
        assertExit(badFlag, 1)
        const limit = yield* cli("list", "--limit", "0")
        assertExit(limit, 1)
        assert.include(limit.stderr, "--limit")
        const age = yield* cli("prune", "--older-than", "soon")
        assertExit(age, 1)
        assert.include(age.stderr, "--older-than")
        const noArgument = yield* cli("show")
        assertExit(noArgument, 1)
        const noDatabase = yield* runCli(["list"])
        assertExit(noDatabase, 1)
        assert.include(noDatabase.stderr, "DATABASE_URL")
        const badPrefix = yield* runCli(["--prefix", "Bad-Prefix", "list"], { env: { DATABASE_URL: databaseUrl } })
        assertExit(badPrefix, 1)
        assert.include(badPrefix.stderr, "--prefix")
      }), 120_000)

    it.effect("lists deployments as a table, or as JSON, filtered and page by page", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const first = (yield* actions.execute(Provision, { name: "a" }, { application, key: "list-a" })).deploymentId
        const second = (yield* actions.execute(Provision, { name: "b" }, { application })).deploymentId

        const table = yield* cli("list", "--application", application, "--action", "provision", "--status", "succeeded")
        assertExit(table, 0)
        const lines = table.stdout.trimEnd().split("\n")
        assert.match(lines[0]!, /^ID\s+APPLICATION\s+ACTION\s+KEY\s+STATUS\s+JOB\s+REQUEST\s+UPDATED$/)
        assert.include(lines[1]!, second, "newest first")
        assert.include(lines[2]!, first)
        assert.include(lines[2]!, "list-a")
        assert.notMatch(table.stdout, /\u001b\[/, "no colours when stdout is not a terminal")

        const page = parse(yield* cli("list", "--application", application, "--action", "provision", "--limit", "1", "--json"))
        const decoded = Schema.decodeUnknownSync(OperatorApi.DeploymentPageView)(page)
        assert.deepStrictEqual(decoded.items.map((d) => d.id), [second])
        assert.isTrue(Option.isSome(decoded.next))
        const next = yield* cli("list", "--application", application, "--action", "provision", "--limit", "1", "--json", "--cursor", Option.getOrThrow(decoded.next))
        assert.deepStrictEqual((parse(next).items as Array<{ id: string }>).map((d) => d.id), [first])
        const human = yield* cli("list", "--application", application, "--action", "provision", "--limit", "1")
        assert.match(human.stdout, /next page: --cursor '.+'/)

        const none = yield* cli("list", "--application", application, "--status", "rollback_failed")
        assertExit(none, 0)
        assert.include(none.stdout, "(no deployments)")
      }), 120_000)

    it.effect("colours statuses only on a terminal, and never with NO_COLOR", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        yield* actions.execute(Provision, { name: "coloured" }, { application })
        // `script` (util-linux) runs the binary on a pseudo-terminal.
        const line = `${process.execPath} ${binPath} --prefix ${prefix} list --application ${application} --limit 1`
        const onTerminal = yield* runCli(["-qec", line, "/dev/null"], { command: ["script"], env: { DATABASE_URL: databaseUrl } })
        assertExit(onTerminal, 0)
        assert.include(onTerminal.stdout, "\u001b[32msucceeded\u001b[0m")
        const noColor = yield* runCli(["-qec", line, "/dev/null"], {
          command: ["script"],
          env: { DATABASE_URL: databaseUrl, NO_COLOR: "1" }
        })
        assertExit(noColor, 0)
        assert.notMatch(noColor.stdout, /\u001b\[/)
      }), 120_000)

    it.effect("shows a deployment: every job with status, attempts, times, input and output, and the error log", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "shown" }, { application })
        const shown = yield* cli("show", deploymentId)
        assertExit(shown, 0)
        assert.match(shown.stdout, new RegExp(`^id\\s+${deploymentId}$`, "m"))
        assert.match(shown.stdout, /^status\s+succeeded$/m)
        assert.match(shown.stdout, /^0\s+create-machine\s+succeeded\s+1\s+\d{4}-\d\d-\d\dT\S+Z\s+\d{4}-\d\d-\d\dT\S+Z$/m)
        assert.match(shown.stdout, /^1\s+announce\s+succeeded\s+1\s/m)
        assert.include(shown.stdout, `input   {"name":"shown"}`)
        assert.include(shown.stdout, `output  {"name":"shown","machine":"m-shown"}`)
        assert.include(shown.stdout, "(no errors)")

        const failed = yield* actions.start(Explode, { name: "boom" }, { application })
        yield* Effect.flip(actions.awaitById(failed))
        const json = parse(yield* cli("show", failed, "--json"))
        const deployment = Schema.decodeUnknownSync(OperatorApi.DeploymentView)(json.deployment)
        assert.strictEqual(deployment.status, "rolled_back")
        assert.deepStrictEqual(deployment.jobs.map((job) => [job.name, job.attempts]), [["ignite", 1]])
        const errors = Schema.decodeUnknownSync(Schema.Array(OperatorApi.ErrorEntryView))(json.errors)
        assert.strictEqual(errors[0]?.tag, "Boom")
        const human = yield* cli("show", failed)
        assert.match(human.stdout, /^SEQ\s+AT\s+JOB\s+PHASE\s+TAG\s+MESSAGE$/m)
        assert.match(human.stdout, /ignite\s+execute\s+Boom\s+ignite exploded/)
      }), 120_000)

    it.effect("prints the error log, all of it or one job's", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const id = yield* actions.start(Explode, { name: "log" }, { application })
        yield* Effect.flip(actions.awaitById(id))
        const all = yield* cli("errors", id)
        assertExit(all, 0)
        assert.match(all.stdout, /ignite\s+execute\s+Boom/)
        const ofJob = parse(yield* cli("errors", id, "--job", "ignite", "--json"))
        const log = Schema.decodeUnknownSync(OperatorApi.ErrorLogView)(ofJob)
        assert.strictEqual(log.deploymentId, id)
        assert.deepStrictEqual(log.items.map((e) => Option.getOrNull(e.job)), ["ignite"])
        const ofOther = yield* cli("errors", id, "--job", "other")
        assertExit(ofOther, 0)
        assert.include(ofOther.stdout, "(no errors)")
      }), 120_000)

    it.effect("exits 2 when the deployment does not exist or refuses the operation", () =>
      Effect.gen(function*() {
        const unknown = crypto.randomUUID()
        for (const args of [["show", unknown], ["errors", unknown], ["stop", unknown]]) {
          const result = yield* cli(...args)
          assertExit(result, 2)
          assert.include(result.stderr, `no deployment has id ${unknown}`)
          assert.strictEqual(result.stdout, "")
        }
        const json = yield* cli("show", unknown, "--json")
        assertExit(json, 2)
        assert.deepStrictEqual(JSON.parse(json.stderr), {
          _tag: "DeploymentNotFound",
          message: `no deployment has id ${unknown}`,
          deploymentId: unknown
        })
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "finished" }, { application })
        const refused = yield* cli("stop", deploymentId)
        assertExit(refused, 2)
        assert.include(refused.stderr, "is not running (status succeeded)")
        const cursor = yield* cli("list", "--cursor", "not-a-cursor")
        assertExit(cursor, 2)
      }), 120_000)

    it.effect("stops a deployment another process runs: that process rolls it back", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const id = yield* actions.start(Hold, { name: "stop-me" }, { application })
        yield* readUntil(id, (d) => d.jobs[1]?.status === "running")
        const stopped = yield* cli("stop", id, "--log-level", "info")
        assertExit(stopped, 0)
        assert.strictEqual(
          stopped.stdout,
          `stop of deployment ${id}: done: the process that runs it rolls it back (follow it with show, or pass --wait)\n`,
          "stdout holds the output alone"
        )
        assert.include(stopped.stderr, `stop requested for deployment ${id}`, "the runtime's log, on stderr")
        const failure = yield* Effect.flip(actions.awaitById(id))
        assert.strictEqual(failure._tag, "DeploymentFailed")
        if (failure._tag === "DeploymentFailed") {
          assert.deepStrictEqual([failure.status, failure.reason], ["rolled_back", "ExecutionStopped"])
        }
        const again = yield* cli("stop", id, "--json")
        assertExit(again, 2)
      }), 120_000)

    it.effect("never claims a deployment, even one whose lease expired long ago", () =>
      Effect.gen(function*() {
        const store = yield* DeploymentStore.DeploymentStore
        // Started in 2023 by a process that is gone: its lease expired, and any recovery would take it.
        const abandoned = makeSnapshot({ application, action: "provision", jobs: 2 })
        yield* store.create(abandoned, { leaseTtlMillis: 30_000 })
        for (const args of [["list", "--application", application], ["show", abandoned.deployment.id], ["errors", abandoned.deployment.id]]) {
          assertExit(yield* cli(...args), 0)
        }
        const after = Option.getOrThrow(yield* store.get(abandoned.deployment.id))
        assert.deepStrictEqual(
          [after.deployment.owner, after.deployment.leaseEpoch, after.deployment.resumes, after.deployment.status],
          ["owner-a", 1, 0, "running"]
        )
      }), 120_000)

    it.effect("prunes finished deployments older than the given age", () =>
      Effect.gen(function*() {
        const young = yield* cli("prune", "--older-than", "30d")
        assertExit(young, 0)
        assert.include(young.stdout, "pruned 0 finished deployments")
        assert.deepStrictEqual(parse(yield* cli("prune", "--older-than", "30 days", "--json")), { pruned: 0 })
      }), 120_000)

    it.effect("exits 3 when the store is unavailable", () =>
      Effect.gen(function*() {
        // Nothing listens on port 1 of the loopback address.
        const down = yield* runCli(["list"], { env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/test" } })
        assertExit(down, 3)
        assert.include(down.stderr, "connection")
        const json = yield* runCli(["show", crypto.randomUUID(), "--json"], {
          env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/test" }
        })
        assertExit(json, 3)
        assert.deepInclude(JSON.parse(json.stderr), { _tag: "PersistenceError", reason: "connection" })
      }), 120_000)

    it.effect("connects with --database-url, which wins over DATABASE_URL", () =>
      Effect.gen(function*() {
        const flagOnly = yield* runCli(["--database-url", databaseUrl, "--prefix", prefix, "list", "--json"])
        assertExit(flagOnly, 0)
        assert.isArray(parseJson(flagOnly).items)
        const down = "postgres://postgres@127.0.0.1:1/test"
        const flagWins = yield* runCli(["--database-url", down, "--prefix", prefix, "list"], {
          env: { DATABASE_URL: databaseUrl }
        })
        assertExit(flagWins, 3)
        assert.include(flagWins.stderr, "connection")
        assert.notInclude(flagWins.stderr + flagWins.stdout, "postgres://", "the URL is never printed")
      }), 120_000)

    it.effect("migrates a store's tables once: a second run applies nothing", () =>
      Effect.gen(function*() {
        const fresh = uniquePrefix()
        const env = { DATABASE_URL: databaseUrl }
        yield* Effect.addFinalizer(() => dropTables(fresh))
        const first = yield* runCli(["--prefix", fresh, "migrate", "--json"], { env })
        const applied = parse(first)
        assert.isAtLeast((applied.applied as Array<unknown>).length, 1)
        assert.deepStrictEqual(applied.applied, applied.current)
        const second = yield* runCli(["--prefix", fresh, "migrate"], { env })
        assertExit(second, 0)
        assert.include(second.stdout, "up to date")
        const sql = yield* SqlClient.SqlClient
        const tables = yield* sql<{ readonly name: string }>`
          SELECT tablename AS name FROM pg_tables WHERE tablename LIKE ${`${fresh}%`} ORDER BY tablename`
        assert.includeMembers(tables.map((t) => t.name), [`${fresh}deployments`, `${fresh}migrations`])
        // The CLI's deployment commands work on the new tables.
        assertExit(yield* runCli(["--prefix", fresh, "list"], { env }), 0)
      }), 120_000)

    it.effect("serves the dashboard and the operator API on 127.0.0.1 until it is stopped", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId } = yield* actions.execute(Provision, { name: "served" }, { application })
        const child = spawnCli(["--prefix", prefix, "serve", "--port", "0", "--json"], { env: { DATABASE_URL: databaseUrl } })
        const exited = Effect.callback<number | null>((resume) => {
          if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
          child.on("exit", (code) => resume(Effect.succeed(code)))
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => void child.kill("SIGKILL")))
        const announced = yield* Effect.callback<string>((resume) => {
          let stdout = ""
          child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
            stdout += chunk
            if (stdout.trimEnd().endsWith("}")) resume(Effect.succeed(stdout))
          })
        }).pipe(Effect.timeout("30 seconds"))
        const { url, openapi, dashboard } = JSON.parse(announced) as { url: string; openapi: string; dashboard: string }
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/api$/)
        assert.strictEqual(dashboard, url.replace(/api$/, ""))
        // each request bounded, so that a server that does not answer fails here, saying which request
        const bounded = { signal: AbortSignal.timeout(20_000) }
        const page = yield* Effect.promise(() => fetch(dashboard, bounded).then(async (r) => [r.headers.get("content-type"), await r.text()] as const))
        assert.match(page[0] ?? "", /^text\/html/)
        assert.include(page[1], '<meta name="effect-actions-api" content="/api">')
        const script = yield* Effect.promise(() => fetch(`${dashboard}assets/app.js`, bounded).then((r) => r.status))
        assert.strictEqual(script, 200)
        const got = yield* Effect.promise(() => fetch(`${url}/deployments/${deploymentId}`, bounded).then(async (r) => [r.status, await r.json()] as const))
        assert.strictEqual(got[0], 200)
        assert.strictEqual((got[1] as { status: string }).status, "succeeded")
        const spec = yield* Effect.promise(() => fetch(openapi, bounded).then((r) => r.json() as Promise<{ servers: unknown }>))
        assert.deepStrictEqual(spec.servers, [{ url: "/api" }])
        child.kill("SIGTERM")
        const code = yield* exited.pipe(Effect.timeout("15 seconds"))
        assert.strictEqual(code, 130, "interrupted by the signal")
      }), 120_000)
  })
})

describe("the driver's load failure", () => {
  const notFound = (message: string) => Object.assign(new Error(message), { code: "ERR_MODULE_NOT_FOUND" })

  it("is told as not installed only when the driver itself is not found", () => {
    assert.isTrue(isDriverNotFound(notFound("Cannot find package '@effect/sql-pg' imported from /app/dist/cli/connection.js")))
    assert.isFalse(
      isDriverNotFound(notFound("Cannot find package 'pg' imported from /app/node_modules/@effect/sql-pg/dist/PgClient.js")),
      "a module of the driver's own missing"
    )
    assert.isFalse(isDriverNotFound(new SyntaxError("Unexpected token '@effect/sql-pg'")), "not a missing module")
    assert.isFalse(isDriverNotFound("@effect/sql-pg"), "not an error")
  })

  it("says why the installed driver did not load", () => {
    assert.strictEqual(
      new MissingDriver({}).message,
      "the CLI connects through @effect/sql-pg, which is not installed: npm install @effect/sql-pg"
    )
    assert.strictEqual(
      new MissingDriver({ detail: "Cannot find package 'pg'" }).message,
      "the CLI connects through @effect/sql-pg, which did not load: Cannot find package 'pg'"
    )
  })
})
