/**
 * The operator operations of the real `effect-actions` binary (stop, retry, rollback, retry-rollback, restart, their
 * bulk forms, `--wait`), spawned against PostgreSQL. The binary has no action registered, so it records requests;
 * the runtime of this test process, on the same tables and with the actions registered, is the live worker that
 * carries them out: with `resume()` called by a test, or by a recovery loop a test runs while the binary waits.
 */
import { assert, describe, layer } from "@effect/vitest"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import { Actions } from "effect-actions"
import { OperatorApi } from "effect-actions/http"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assertExit, type CliResult, parseJson, runCli } from "./support/cli.ts"
import { readUntil } from "./support/http.ts"
import { Hold, Provision, Quota, quotaLimit, registerAll, Teardown } from "./support/operator.ts"
import { databaseUrl, PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"

const prefix = uniquePrefix()
const application = `cli-ops-${crypto.randomUUID().slice(0, 8)}`

/** Runs the binary on this file's tables. */
const cli = (...args: Array<string>) => runCli(["--prefix", prefix, ...args], { env: { DATABASE_URL: databaseUrl } })

const TestLayer = Layer.effectDiscard(registerAll(application)).pipe(
  Layer.provideMerge(Actions.layer({ recovery: { enabled: false } })),
  Layer.provideMerge(storeLayer(prefix)),
  Layer.provideMerge(PgLive)
)

/** A `quota` deployment started by this process with `n`, once it paused. */
const paused = (n = 1) =>
  Effect.gen(function*() {
    const actions = yield* Actions.Actions
    const id = yield* actions.start(Quota, { n }, { application })
    yield* readUntil(id, (d) => d.status === "paused")
    return id
  })

/** For the rest of the test: this process, which has the actions, runs a recovery pass every 100 ms. */
const liveWorker = Effect.flatMap(Actions.Actions, (actions) =>
  Effect.forkScoped(Effect.forever(Effect.andThen(Effect.ignore(actions.resume()), Effect.sleep("100 millis")))))

const lines = (result: CliResult) => result.stdout.trimEnd().split("\n")

const decodeReceipt = Schema.decodeUnknownSync(OperatorApi.OperationReceipt)
const decodeBulk = Schema.decodeUnknownSync(OperatorApi.BulkResultView)
const WaitedView = Schema.Struct({
  receipt: OperatorApi.OperationReceipt,
  outcome: Schema.Literal("done"),
  entry: OperatorApi.HistoryEntryView,
  deployment: OperatorApi.DeploymentView
})

describe("effect-actions CLI operations", () => {
  layer(TestLayer, { excludeTestServices: true, timeout: "120 seconds" })("against PostgreSQL", (it) => {
    it.effect("documents the new commands and their flags in --help", () =>
      Effect.gen(function*() {
        const help = yield* runCli(["--help"])
        assertExit(help, 0)
        for (const command of ["stop", "retry", "rollback", "retry-rollback", "restart"]) {
          assert.match(help.stdout, new RegExp(`^\\s+${command}\\s`, "m"), `${command} in the help`)
        }
        const filters = ["--status", "--application", "--action", "--created-before", "--created-after", "--dry-run"]
        const expected: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
          ["retry", ["--input", "--input-file", "--reason", "--wait", "--timeout", ...filters]],
          ["rollback", ["--reason", "--wait", "--timeout", ...filters]],
          ["retry-rollback", ["--reason", "--wait", "--timeout", ...filters]],
          ["stop", ["--reason", "--wait", "--timeout", ...filters]],
          ["restart", ["--key", "--reason", "--wait", "--timeout"]]
        ]
        for (const [command, flags] of expected) {
          const commandHelp = yield* runCli([command, "--help"])
          assertExit(commandHelp, 0)
          for (const flag of flags) assert.include(commandHelp.stdout, flag, `${command} --help`)
          assert.include(commandHelp.stdout, "EXAMPLES", `${command} --help`)
        }
      }), 120_000)

    it.effect("retry records a request that a process with the action carries out; show and list print it", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const id = yield* paused()
        const requested = yield* cli("retry", id, "--input", JSON.stringify({ n: quotaLimit + 2 }), "--reason", "quota raised")
        assertExit(requested, 0)
        assert.strictEqual(
          requested.stdout.trimEnd(),
          `retry of deployment ${id}: requested: a process that has the action carries it out (follow it with show, or pass --wait)`
        )

        const shown = yield* cli("show", id)
        assertExit(shown, 0)
        assert.match(shown.stdout, /^status\s+paused$/m)
        assert.match(
          shown.stdout,
          /^request\s+retry requested by effect-actions-cli-\S+ at \S+Z; reason: quota raised; input: \{"n":12\}; \(not carried out yet/m
        )
        assert.match(shown.stdout, /^SEQ\s+AT\s+OPERATION\s+OUTCOME\s+BY\s+JOB\s+REASON\s+MESSAGE$/m)
        assert.match(shown.stdout, /^\d+\s+\S+Z\s+retry\s+requested\s+effect-actions-cli-\S+\s+check-quota\s+quota raised\s+this process/m)
        const listed = yield* cli("list", "--application", application, "--status", "paused")
        assertExit(listed, 0)
        const row = lines(listed).find((line) => line.startsWith(id))
        assert.match(row ?? "", /\squota\s+-\s+paused\s+1\s+retry\s/, listed.stdout)

        const again = yield* cli("retry", id)
        assertExit(again, 2)
        assert.include(again.stderr, "is not carried out yet")

        assert.deepStrictEqual((yield* actions.resume()).carried, [id])
        yield* readUntil(id, (d) => d.status === "succeeded")
        const json = parseJson(yield* cli("show", id, "--json"))
        const deployment = Schema.decodeUnknownSync(OperatorApi.DeploymentView)(json.deployment)
        assert.isTrue(Option.isNone(deployment.request))
        assert.deepStrictEqual(deployment.history.map((entry) => [entry.operation, entry.outcome]), [
          ["retry", "requested"],
          ["retry", "done"]
        ])
        assert.deepStrictEqual(deployment.jobs[1]!.input, Option.some({ n: quotaLimit + 2 }))

        // The replacement input read from a file.
        const other = yield* paused()
        const file = join(mkdtempSync(join(tmpdir(), "effect-actions-cli-")), "input.json")
        writeFileSync(file, JSON.stringify({ n: quotaLimit }))
        const fromFile = yield* cli("retry", other, "--input-file", file, "--json")
        assert.deepStrictEqual(decodeReceipt(parseJson(fromFile)).outcome, "requested")
        const pending = yield* actions.get(other)
        assert.deepStrictEqual(Option.map(pending.request, (request) => request.input), Option.some(Option.some({ n: quotaLimit })))
        yield* actions.resume()
      }), 120_000)

    it.effect("prints each operation's receipt as JSON: rollback, retry-rollback, restart (with the new id), stop", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const toRollBack = yield* paused()
        const rolled = decodeReceipt(parseJson(yield* cli("rollback", toRollBack, "--reason", "give up", "--json")))
        assert.deepStrictEqual([rolled.deploymentId, rolled.operation, rolled.outcome], [toRollBack, "rollback", "requested"])

        const failedRollback = yield* actions.start(Teardown, { n: 0 }, { application })
        yield* readUntil(failedRollback, (d) => d.status === "rollback_failed")
        const retried = decodeReceipt(parseJson(yield* cli("retry-rollback", failedRollback, "--json")))
        assert.deepStrictEqual([retried.operation, retried.outcome], ["retry_rollback", "requested"])

        const { deploymentId: finished } = yield* actions.execute(Provision, { name: "cli-restart" }, { application })
        const restartText = yield* cli("restart", finished, "--key", `again-${finished}`)
        assertExit(restartText, 0)
        assert.match(restartText.stdout, /requested: a process that has the action carries it out; the new deployment's id is \S+/)
        yield* actions.resume()
        const restarted = decodeReceipt(parseJson(yield* cli("restart", finished, "--json")))
        assert.isTrue(Option.isSome(restarted.restartedAs))

        const pausedStop = yield* paused()
        const stopped = decodeReceipt(parseJson(yield* cli("stop", pausedStop, "--reason", "wrong region", "--json")))
        assert.deepStrictEqual([stopped.operation, stopped.outcome], ["stop", "requested"])

        yield* actions.resume()
        assert.strictEqual((yield* readUntil(toRollBack, (d) => d.status === "rolled_back")).history[0]!.reason.pipe(Option.getOrUndefined), "give up")
        yield* readUntil(failedRollback, (d) => d.status === "rolled_back")
        const fresh = yield* readUntil(Option.getOrThrow(restarted.restartedAs), (d) => d.status === "succeeded")
        assert.deepStrictEqual(Option.getOrUndefined(fresh.restartOf), finished)
        const stoppedDeployment = yield* readUntil(pausedStop, (d) => d.status === "rolled_back")
        assert.strictEqual(Option.getOrThrow(stoppedDeployment.failure).tag, "ExecutionStopped")
      }), 120_000)

    it.effect("--wait follows a request to a live worker: done (exit 0) with the final status, or refused (exit 2)", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const toRetry = yield* paused()
        const toRetryAgain = yield* paused()
        const toRollBack = yield* paused()
        const toStop = yield* paused()
        const misfit = yield* paused()
        const failedRollback = yield* actions.start(Teardown, { n: 0 }, { application })
        yield* readUntil(failedRollback, (d) => d.status === "rollback_failed")
        const { deploymentId: finished } = yield* actions.execute(Provision, { name: "cli-wait" }, { application })
        const running = yield* actions.start(Hold, { name: "cli-wait" }, { application })
        yield* readUntil(running, (d) => d.jobs[1]?.status === "running")
        yield* liveWorker

        const retried = yield* cli("retry", toRetry, "--input", JSON.stringify({ n: quotaLimit }), "--wait")
        assertExit(retried, 0)
        const [receipt, waiting, done, final] = lines(retried)
        assert.strictEqual(receipt, `retry of deployment ${toRetry}: requested: a process that has the action carries it out`)
        assert.include(waiting, "waiting until it is carried out and the deployment rests (at most 60s)")
        assert.match(done ?? "", new RegExp(`^done: carried out by ${actions.owner}; with a replacement input$`))
        assert.strictEqual(final, `deployment ${toRetry}: succeeded`)

        // Carried out, but the job fails again: the operation is done (exit 0), and the deployment rests paused.
        const failsAgain = yield* cli("retry", toRetryAgain, "--input", JSON.stringify({ n: 3 }), "--wait")
        assertExit(failsAgain, 0)
        assert.strictEqual(lines(failsAgain).at(-1), `deployment ${toRetryAgain}: paused`)

        const waitedJson = Schema.decodeUnknownSync(WaitedView)(parseJson(yield* cli("rollback", toRollBack, "--wait", "--json")))
        assert.deepStrictEqual(
          [waitedJson.receipt.outcome, waitedJson.entry.operation, waitedJson.entry.outcome, waitedJson.deployment.status],
          ["requested", "rollback", "done", "rolled_back"]
        )

        for (const [args, id, status] of [
          [["retry-rollback", failedRollback], failedRollback, "rolled_back"],
          [["stop", toStop, "--reason", "wrong region"], toStop, "rolled_back"],
          [["stop", running], running, "rolled_back"]
        ] as const) {
          const result = yield* cli(...args, "--wait")
          assertExit(result, 0)
          assert.strictEqual(lines(result).at(-1), `deployment ${id}: ${status}`, args.join(" "))
        }

        const restarted = yield* cli("restart", finished, "--wait")
        assertExit(restarted, 0)
        const newId = /the new deployment's id is (\S+)/.exec(restarted.stdout)?.[1]
        assert.isString(newId, restarted.stdout)
        assert.strictEqual(lines(restarted).at(-1), `new deployment ${newId}: succeeded`)

        const refused = yield* cli("retry", misfit, "--input", JSON.stringify({ n: "ten" }), "--wait")
        assertExit(refused, 2)
        assert.include(refused.stderr, `the retry of deployment ${misfit} was refused (status paused)`)
        assert.include(refused.stderr, "check-quota")
        const refusedJson = yield* cli("retry", misfit, "--input", JSON.stringify({ n: "ten" }), "--wait", "--json")
        assertExit(refusedJson, 2)
        assert.strictEqual(refusedJson.stdout, "")
        assert.deepInclude(JSON.parse(refusedJson.stderr), { _tag: "RequestRefused", deploymentId: misfit, operation: "retry" })
      }), 120_000)

    it.effect("--wait without a process that has the action times out with exit 4, the request left pending", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const id = yield* paused()
        const timedOut = yield* cli("retry", id, "--wait", "--timeout", "1s")
        assertExit(timedOut, 4)
        assert.include(timedOut.stderr, `the retry of deployment ${id} was not carried out within 1s`)
        assert.isTrue(Option.isSome((yield* actions.get(id)).request), "the request stays pending")
        yield* actions.resume()
        // The retry runs its job (below the quota) and pauses again.
        yield* readUntil(id, (d) => d.status === "paused" && Option.isNone(d.request))
        const json = yield* cli("rollback", id, "--wait", "--timeout", "500ms", "--json")
        assertExit(json, 4)
        assert.deepInclude(JSON.parse(json.stderr), { _tag: "WaitTimedOut", deploymentId: id, pending: true })
        yield* actions.resume()
      }), 120_000)

    it.effect("exits 2 when an operation does not apply to the deployment, or there is none", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const { deploymentId: finished } = yield* actions.execute(Provision, { name: "cli-refused" }, { application })
        for (const [command, operation] of [["retry", "retry"], ["rollback", "rollback"], ["retry-rollback", "retry_rollback"]]) {
          const result = yield* cli(command!, finished)
          assertExit(result, 2)
          assert.include(result.stderr, `cannot ${operation} deployment ${finished} (status succeeded)`)
        }
        const stop = yield* cli("stop", finished)
        assertExit(stop, 2)
        assert.include(stop.stderr, "is not running (status succeeded)")
        const id = yield* paused()
        const restart = yield* cli("restart", id, "--json")
        assertExit(restart, 2)
        assert.deepInclude(JSON.parse(restart.stderr), { _tag: "OperationRefused", reason: "status", status: "paused" })
        const unknown = yield* cli("rollback", crypto.randomUUID())
        assertExit(unknown, 2)
        assert.include(unknown.stderr, "no deployment has id")
      }), 120_000)

    it.effect("bulk forms: --dry-run prints the count and the ids, the real run each deployment's outcome", () =>
      Effect.gen(function*() {
        const actions = yield* Actions.Actions
        const since = DateTime.formatIso(yield* DateTime.now)
        const ids = [yield* paused(), yield* paused()]
        const running = yield* actions.start(Hold, { name: "bulk-stop" }, { application })
        yield* readUntil(running, (d) => d.jobs[1]?.status === "running")
        const filter = ["--application", application, "--created-after", since]

        const dry = yield* cli("retry", "--status", "paused", "--action", "quota", ...filter, "--dry-run")
        assertExit(dry, 0)
        const [summary, ...listed] = lines(dry)
        assert.strictEqual(summary, "dry run: retry would apply to 2 deployments")
        assert.deepStrictEqual([...listed].sort(), [...ids].sort())
        const stopDry = decodeBulk(parseJson(yield* cli("stop", "--status", "running", "--action", "hold", ...filter, "--dry-run", "--json")))
        assert.deepStrictEqual([stopDry.operation, stopDry.dryRun, stopDry.matched, stopDry.ids, stopDry.items], [
          "stop",
          true,
          1,
          [running],
          []
        ])
        const before = decodeBulk(parseJson(yield* cli("rollback", "--action", "quota", "--created-before", since, "--application", application, "--dry-run", "--json")))
        assert.notIncludeMembers([...before.ids], ids, "created before the cutoff: none of them")
        for (const id of ids) assert.strictEqual((yield* actions.get(id)).status, "paused", "a dry run changes nothing")

        const real = yield* cli("rollback", "--action", "quota", ...filter, "--reason", "incident 7")
        assertExit(real, 0)
        assert.strictEqual(lines(real)[0], "rollback: 2 deployments matched: 0 done, 2 requested, 0 refused")
        assert.match(real.stdout, /^ID\s+OUTCOME\s+MESSAGE$/m)
        for (const id of ids) assert.match(real.stdout, new RegExp(`^${id}\\s+requested\\s+-$`, "m"))
        assert.include(real.stdout, "requested: a process that has the action carries it out")

        const stopped = decodeBulk(parseJson(yield* cli("stop", "--status", "running", "--action", "hold", ...filter, "--json")))
        assert.deepStrictEqual(stopped.items.map((item) => [item.deploymentId, item.outcome]), [[running, "done"]])
        const refused = decodeBulk(parseJson(yield* cli("retry-rollback", "--status", "paused", ...filter, "--json")))
        assert.deepStrictEqual(refused.items.map((item) => item.outcome), ["refused", "refused"])

        yield* actions.resume()
        for (const id of [...ids, running]) yield* readUntil(id, (d) => d.status === "rolled_back")
      }), 120_000)

    it.effect("exits 1 on usage errors: an id with filters, neither, a flag of the other form; 3 when the store is down", () =>
      Effect.gen(function*() {
        const id = crypto.randomUUID()
        const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
          [["retry", id, "--status", "paused"], "give a deployment id or filters, not both"],
          [["stop"], "give a deployment id, or filters"],
          [["rollback", id, "--dry-run"], "--dry-run"],
          [["retry", "--status", "paused", "--input", "{}"], "--input"],
          [["stop", "--status", "running", "--wait"], "--wait"],
          [["retry", id, "--input", "{}", "--input-file", "package.json"], "not both"],
          [["retry", id, "--input", "{not json"], "expected JSON text"],
          [["retry-rollback", "--created-before", "last week"], "ISO 8601"],
          [["restart", id, "--wait", "--timeout", "never"], "--timeout"]
        ]
        for (const [args, text] of cases) {
          const result = yield* cli(...args)
          assertExit(result, 1)
          assert.include(result.stderr, text, args.join(" "))
          assert.strictEqual(result.stdout, "", args.join(" "))
        }
        const flag = yield* cli("restart", id, "--status", "paused")
        assertExit(flag, 1)

        const down = yield* runCli(["retry", id], { env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/test" } })
        assertExit(down, 3)
        assert.include(down.stderr, "connection")
      }), 120_000)
  })
})
