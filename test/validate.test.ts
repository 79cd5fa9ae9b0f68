import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schema } from "effect"
import { Action, ActionError, type Actions, Job } from "effect-actions"
import * as Validate from "../src/internal/validate.ts"

const optionError = (options: unknown) =>
  Effect.flip(Validate.resolveOptions(options as Actions.Options))

const resolved = (options: unknown) => Validate.resolveOptions(options as Actions.Options)

const lone = "🚀".slice(0, 1)
const bytes = (count: number) => "x".repeat(count)

describe("validate (class 6: every option validated)", () => {
  it.effect("resolves the defaults when no option is given", () =>
    Effect.gen(function*() {
      const settings = yield* resolved(undefined)
      assert.match(settings.owner, /^effect-actions-[0-9a-f-]{36}$/)
      assert.strictEqual(Duration.toMillis(settings.recovery.leaseTtl), 30_000)
      assert.strictEqual(Duration.toMillis(settings.recovery.heartbeat), 10_000)
      assert.strictEqual(Duration.toMillis(settings.recovery.pollInterval), 5_000)
      assert.strictEqual(settings.recovery.batch, 100)
      assert.strictEqual(settings.recovery.maxInFlight, 1000)
      assert.strictEqual(settings.recovery.maxResumes, 10)
      assert.strictEqual(settings.recovery.enabled, true)
      assert.strictEqual(Duration.toMillis(settings.awaitPollInterval), 1_000)
      assert.strictEqual(Duration.toMillis(settings.shutdownTimeout), 10_000)
    }))

  it.effect("makes a new random owner each time the options are resolved", () =>
    Effect.gen(function*() {
      assert.notStrictEqual((yield* resolved({})).owner, (yield* resolved({})).owner)
    }))

  it.effect("defaults the heartbeat to a third of the lease TTL given", () =>
    Effect.gen(function*() {
      const settings = yield* resolved({ recovery: { leaseTtl: "3 seconds" } })
      assert.strictEqual(Duration.toMillis(settings.recovery.heartbeat), 1_000)
    }))

  it.effect("accepts every kind of duration input: millis, strings, objects, pairs, Durations", () =>
    Effect.gen(function*() {
      const settings = yield* resolved({
        recovery: { leaseTtl: { minutes: 1 }, heartbeat: [5, 0], pollInterval: Duration.seconds(2) },
        awaitPollInterval: 250,
        shutdownTimeout: "0.5 seconds"
      })
      assert.strictEqual(Duration.toMillis(settings.recovery.leaseTtl), 60_000)
      assert.strictEqual(Duration.toMillis(settings.recovery.heartbeat), 5_000)
      assert.strictEqual(Duration.toMillis(settings.recovery.pollInterval), 2_000)
      assert.strictEqual(Duration.toMillis(settings.awaitPollInterval), 250)
      assert.strictEqual(Duration.toMillis(settings.shutdownTimeout), 500)
    }))

  it.effect("names the option, the value given and what it accepts", () =>
    Effect.gen(function*() {
      const error = yield* optionError({ recovery: { batch: 0 } })
      assert.instanceOf(error, ActionError.InvalidOption)
      assert.strictEqual(error.option, "recovery.batch")
      assert.strictEqual(error.value, "0")
      assert.strictEqual(error.expected, "an integer from 1 to 10,000")
      assert.strictEqual(error.message, "invalid option recovery.batch: got 0, expected an integer from 1 to 10,000")
    }))

  describe("accepted at the boundaries", () => {
    it.effect.each([
      ["owner of 1 byte", { owner: "a" }],
      ["owner of 256 bytes", { owner: bytes(256) }],
      ["owner of 128 two-byte characters (256 bytes)", { owner: "é".repeat(128) }],
      ["leaseTtl of 100 millis", { recovery: { leaseTtl: 100 } }],
      ["leaseTtl of 24 hours", { recovery: { leaseTtl: "24 hours" } }],
      ["a fraction of a second as leaseTtl", { recovery: { leaseTtl: "1.5 seconds" } }],
      ["heartbeat of 10 millis", { recovery: { heartbeat: 10 } }],
      ["heartbeat just under leaseTtl", { recovery: { leaseTtl: 1000, heartbeat: 999 } }],
      ["pollInterval of 10 millis", { recovery: { pollInterval: "10 millis" } }],
      ["pollInterval of 24 hours", { recovery: { pollInterval: { hours: 24 } } }],
      ["batch of 1", { recovery: { batch: 1 } }],
      ["batch of 10,000", { recovery: { batch: 10_000 } }],
      ["maxInFlight of 1", { recovery: { maxInFlight: 1 } }],
      ["maxInFlight of 100,000", { recovery: { maxInFlight: 100_000 } }],
      ["maxResumes of 1", { recovery: { maxResumes: 1 } }],
      ["maxResumes of 1,000,000", { recovery: { maxResumes: 1_000_000 } }],
      ["enabled false", { recovery: { enabled: false } }],
      ["awaitPollInterval of 10 millis", { awaitPollInterval: 10 }],
      ["shutdownTimeout of 0", { shutdownTimeout: 0 }],
      ["shutdownTimeout of 24 hours", { shutdownTimeout: "24 hours" }],
      ["an empty recovery object", { recovery: {} }]
    ] as const)("%s", ([, options]) => Effect.asVoid(resolved(options)))
  })

  describe("refused at the boundaries", () => {
    it.effect.each([
      ["options null", null, "options"],
      ["options a number", 5, "options"],
      ["options an array", [], "options"],
      ["owner empty", { owner: "" }, "owner"],
      ["owner of 257 bytes", { owner: bytes(257) }, "owner"],
      ["owner of 65 four-byte characters (260 bytes)", { owner: "🚀".repeat(65) }, "owner"],
      ["owner with \\u0000", { owner: "a\u0000b" }, "owner"],
      ["owner with a lone surrogate", { owner: `a${lone}` }, "owner"],
      ["owner a number", { owner: 5 }, "owner"],
      ["owner null", { owner: null }, "owner"],
      ["recovery null", { recovery: null }, "recovery"],
      ["recovery a string", { recovery: "fast" }, "recovery"],
      ["leaseTtl of 0", { recovery: { leaseTtl: 0 } }, "recovery.leaseTtl"],
      ["leaseTtl of 99 millis", { recovery: { leaseTtl: 99 } }, "recovery.leaseTtl"],
      ["leaseTtl negative", { recovery: { leaseTtl: -30_000 } }, "recovery.leaseTtl"],
      ["leaseTtl NaN", { recovery: { leaseTtl: Number.NaN } }, "recovery.leaseTtl"],
      ["leaseTtl Infinity", { recovery: { leaseTtl: Number.POSITIVE_INFINITY } }, "recovery.leaseTtl"],
      ["leaseTtl \"Infinity\"", { recovery: { leaseTtl: "Infinity" } }, "recovery.leaseTtl"],
      ["leaseTtl over 24 hours", { recovery: { leaseTtl: 24 * 3_600_000 + 1 } }, "recovery.leaseTtl"],
      ["leaseTtl huge", { recovery: { leaseTtl: 1e300 } }, "recovery.leaseTtl"],
      ["leaseTtl \"30 banana\"", { recovery: { leaseTtl: "30 banana" } }, "recovery.leaseTtl"],
      ["leaseTtl \"30seconds\"", { recovery: { leaseTtl: "30seconds" } }, "recovery.leaseTtl"],
      ["leaseTtl null", { recovery: { leaseTtl: null } }, "recovery.leaseTtl"],
      ["leaseTtl an object of unknown units", { recovery: { leaseTtl: { secs: 30 } } }, "recovery.leaseTtl"],
      ["leaseTtl { seconds: NaN }", { recovery: { leaseTtl: { seconds: Number.NaN } } }, "recovery.leaseTtl"],
      ["leaseTtl [NaN, 0]", { recovery: { leaseTtl: [Number.NaN, 0] } }, "recovery.leaseTtl"],
      ["leaseTtl [1, 2, 3]", { recovery: { leaseTtl: [1, 2, 3] } }, "recovery.leaseTtl"],
      ["leaseTtl true", { recovery: { leaseTtl: true } }, "recovery.leaseTtl"],
      ["heartbeat of 0", { recovery: { heartbeat: 0 } }, "recovery.heartbeat"],
      ["heartbeat of 9 millis", { recovery: { heartbeat: 9 } }, "recovery.heartbeat"],
      ["heartbeat negative", { recovery: { heartbeat: "-1 seconds" } }, "recovery.heartbeat"],
      ["heartbeat NaN", { recovery: { heartbeat: Number.NaN } }, "recovery.heartbeat"],
      ["heartbeat equal to leaseTtl", { recovery: { leaseTtl: 1000, heartbeat: 1000 } }, "recovery.heartbeat"],
      ["heartbeat longer than the default leaseTtl", { recovery: { heartbeat: "1 minute" } }, "recovery.heartbeat"],
      ["pollInterval of 0", { recovery: { pollInterval: 0 } }, "recovery.pollInterval"],
      ["pollInterval of 9 millis", { recovery: { pollInterval: 9 } }, "recovery.pollInterval"],
      ["pollInterval Infinity", { recovery: { pollInterval: "Infinity" } }, "recovery.pollInterval"],
      ["pollInterval NaN", { recovery: { pollInterval: Number.NaN } }, "recovery.pollInterval"],
      ["pollInterval over 24 hours", { recovery: { pollInterval: "25 hours" } }, "recovery.pollInterval"],
      ["batch of 0", { recovery: { batch: 0 } }, "recovery.batch"],
      ["batch negative", { recovery: { batch: -1 } }, "recovery.batch"],
      ["batch of 10,001", { recovery: { batch: 10_001 } }, "recovery.batch"],
      ["batch a fraction", { recovery: { batch: 2.5 } }, "recovery.batch"],
      ["batch NaN", { recovery: { batch: Number.NaN } }, "recovery.batch"],
      ["batch Infinity", { recovery: { batch: Number.POSITIVE_INFINITY } }, "recovery.batch"],
      ["batch a string", { recovery: { batch: "5" } }, "recovery.batch"],
      ["maxInFlight of 0", { recovery: { maxInFlight: 0 } }, "recovery.maxInFlight"],
      ["maxInFlight of 100,001", { recovery: { maxInFlight: 100_001 } }, "recovery.maxInFlight"],
      ["maxInFlight a fraction", { recovery: { maxInFlight: 1.5 } }, "recovery.maxInFlight"],
      ["maxResumes of 0", { recovery: { maxResumes: 0 } }, "recovery.maxResumes"],
      ["maxResumes negative", { recovery: { maxResumes: -10 } }, "recovery.maxResumes"],
      ["maxResumes of 1,000,001", { recovery: { maxResumes: 1_000_001 } }, "recovery.maxResumes"],
      ["maxResumes a fraction", { recovery: { maxResumes: 2.5 } }, "recovery.maxResumes"],
      ["maxResumes NaN", { recovery: { maxResumes: Number.NaN } }, "recovery.maxResumes"],
      ["enabled a string", { recovery: { enabled: "false" } }, "recovery.enabled"],
      ["enabled a number", { recovery: { enabled: 0 } }, "recovery.enabled"],
      ["awaitPollInterval of 0", { awaitPollInterval: 0 }, "awaitPollInterval"],
      ["awaitPollInterval NaN", { awaitPollInterval: Number.NaN }, "awaitPollInterval"],
      ["awaitPollInterval Infinity", { awaitPollInterval: Number.POSITIVE_INFINITY }, "awaitPollInterval"],
      ["awaitPollInterval \"1 banana\"", { awaitPollInterval: "1 banana" }, "awaitPollInterval"],
      ["shutdownTimeout negative", { shutdownTimeout: -1 }, "shutdownTimeout"],
      ["shutdownTimeout Infinity", { shutdownTimeout: "Infinity" }, "shutdownTimeout"],
      ["shutdownTimeout NaN", { shutdownTimeout: Number.NaN }, "shutdownTimeout"],
      ["shutdownTimeout over 24 hours", { shutdownTimeout: "2 days" }, "shutdownTimeout"]
    ] as const)("%s", ([, options, option]) =>
      Effect.gen(function*() {
        const error = yield* optionError(options)
        assert.strictEqual(error._tag, "InvalidOption")
        assert.strictEqual(error.option, option)
      }))
  })

  it.effect("describes an unstorable owner without repeating what cannot be stored", () =>
    Effect.gen(function*() {
      const error = yield* optionError({ owner: "a\u0000b" })
      assert.strictEqual(error.value, "a string that contains \\u0000 at position 1")
      assert.isTrue(Validate.storableString(error.message)._tag === "Success")
    }))

  it.effect("reports the first invalid option only", () =>
    Effect.gen(function*() {
      const error = yield* optionError({ owner: "", recovery: { batch: 0 } })
      assert.strictEqual(error.option, "owner")
    }))
})

describe("validate (class 6: every argument validated)", () => {
  const argumentError = <A>(effect: Effect.Effect<A, ActionError.InvalidArgument>) =>
    Effect.map(Effect.flip(effect), (error) => {
      assert.instanceOf(error, ActionError.InvalidArgument)
      return error
    })

  describe("a deployment id", () => {
    it.effect("accepts any string (one the store never made is simply not found)", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* Validate.deploymentIdArgument("get", "not-a-uuid"), "not-a-uuid")
        assert.strictEqual(yield* Validate.deploymentIdArgument("get", ""), "")
      }))

    it.effect.each([["undefined", undefined], ["null", null], ["a number", 5], ["an object", { id: "x" }]] as const)(
      "refuses %s",
      ([, value]) =>
        Effect.gen(function*() {
          const error = yield* argumentError(Validate.deploymentIdArgument("get", value))
          assert.strictEqual(error.operation, "get")
          assert.strictEqual(error.argument, "deploymentId")
        })
    )
  })

  describe("the olderThan of prune", () => {
    it.effect.each([
      ["0", 0, 0],
      ["30 days", "30 days", 30 * 86_400_000],
      ["a fraction", 0.5, 0.5],
      ["a huge finite duration", 1e300, 1e300]
    ] as const)("accepts %s", ([, olderThan, millis]) =>
      Effect.gen(function*() {
        assert.strictEqual(Duration.toMillis(yield* Validate.pruneOptionsArgument({ olderThan })), millis)
      }))

    it.effect.each([
      ["NaN", { olderThan: Number.NaN }, "options.olderThan"],
      ["a negative duration", { olderThan: -1 }, "options.olderThan"],
      ["\"-5 seconds\"", { olderThan: "-5 seconds" }, "options.olderThan"],
      ["Infinity", { olderThan: Number.POSITIVE_INFINITY }, "options.olderThan"],
      ["\"Infinity\"", { olderThan: "Infinity" }, "options.olderThan"],
      ["\"30 banana\"", { olderThan: "30 banana" }, "options.olderThan"],
      ["olderThan left out", {}, "options.olderThan"],
      ["options undefined", undefined, "options"],
      ["options null", null, "options"]
    ] as const)("refuses %s", ([, options, argument]) =>
      Effect.gen(function*() {
        const error = yield* argumentError(Validate.pruneOptionsArgument(options))
        assert.strictEqual(error.operation, "prune")
        assert.strictEqual(error.argument, argument)
      }))

    it.effect("says what was given and what is accepted", () =>
      Effect.gen(function*() {
        const error = yield* argumentError(Validate.pruneOptionsArgument({ olderThan: "30 banana" }))
        assert.strictEqual(
          error.issue,
          "expected a finite duration of at least 0 millis (milliseconds, or a string such as \"5 seconds\"), got \"30 banana\""
        )
      }))
  })

  describe("the options of list", () => {
    it.effect("uses a page of 50 when no limit is given, and leaves left-out filters out", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* Validate.listOptionsArgument(undefined), { limit: 50 })
        assert.deepStrictEqual(yield* Validate.listOptionsArgument({}), { limit: 50 })
      }))

    it.effect("passes every valid filter through", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(
          yield* Validate.listOptionsArgument({
            statuses: ["running", "rollback_failed"],
            application: "shop",
            action: "deploy",
            limit: 10,
            cursor: "abc"
          }),
          { statuses: ["running", "rollback_failed"], application: "shop", action: "deploy", limit: 10, cursor: "abc" }
        )
      }))

    it.effect.each([["1", 1], ["1000", 1000]] as const)("accepts a limit of %s", ([, limit]) =>
      Effect.gen(function*() {
        assert.strictEqual((yield* Validate.listOptionsArgument({ limit })).limit, limit)
      }))

    it.effect.each([
      ["a limit of 0", { limit: 0 }, "options.limit"],
      ["a limit of 1001", { limit: 1001 }, "options.limit"],
      ["a limit of 2.5", { limit: 2.5 }, "options.limit"],
      ["a limit of NaN", { limit: Number.NaN }, "options.limit"],
      ["a limit of Infinity", { limit: Number.POSITIVE_INFINITY }, "options.limit"],
      ["a negative limit", { limit: -5 }, "options.limit"],
      ["a limit as a string", { limit: "10" }, "options.limit"],
      ["statuses empty", { statuses: [] }, "options.statuses"],
      ["an unknown status", { statuses: ["running", "sleeping"] }, "options.statuses"],
      ["statuses a string", { statuses: "running" }, "options.statuses"],
      ["an empty application", { application: "" }, "options.application"],
      ["an application with \\u0000", { application: "a\u0000" }, "options.application"],
      ["an application a number", { application: 5 }, "options.application"],
      ["an action of 257 bytes", { action: bytes(257) }, "options.action"],
      ["an action null", { action: null }, "options.action"],
      ["a cursor a number", { cursor: 5 }, "options.cursor"],
      ["a cursor with a lone surrogate", { cursor: lone }, "options.cursor"],
      ["options null", null, "options"],
      ["options a string", "running", "options"]
    ] as const)("refuses %s", ([, options, argument]) =>
      Effect.gen(function*() {
        const error = yield* argumentError(Validate.listOptionsArgument(options))
        assert.strictEqual(error.operation, "list")
        assert.strictEqual(error.argument, argument)
      }))

    it.effect("names the status it does not know and where", () =>
      Effect.gen(function*() {
        const error = yield* argumentError(Validate.listOptionsArgument({ statuses: ["running", "sleeping"] }))
        assert.include(error.issue, "got \"sleeping\" at index 1")
      }))
  })

  describe("the options of start", () => {
    it.effect.each([
      ["no options", undefined, {}],
      ["the empty key", { key: "" }, { key: "" }],
      ["a key of 1024 bytes", { key: bytes(1024) }, { key: bytes(1024) }],
      ["an application and a key", { application: "shop", key: "web-1" }, { application: "shop", key: "web-1" }]
    ] as const)("accepts %s", ([, options, expected]) =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* Validate.startOptionsArgument("start", options), expected)
      }))

    it.effect.each([
      ["a key of 1025 bytes", { key: bytes(1025) }, "options.key"],
      ["a key with \\u0000", { key: "web\u00001" }, "options.key"],
      ["a key with a lone surrogate", { key: `web-${lone}` }, "options.key"],
      ["a key a number", { key: 1 }, "options.key"],
      ["a key null", { key: null }, "options.key"],
      ["an empty application", { application: "" }, "options.application"],
      ["an application of 257 bytes", { application: bytes(257) }, "options.application"],
      ["options a number", 5, "options"]
    ] as const)("refuses %s", ([, options, argument]) =>
      Effect.gen(function*() {
        const error = yield* argumentError(Validate.startOptionsArgument("execute", options))
        assert.strictEqual(error.operation, "execute")
        assert.strictEqual(error.argument, argument)
      }))

    it.effect("checks the key of the untyped entry points the same way", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* Validate.keyOptionsArgument("startByName", { key: "" }), { key: "" })
        assert.deepStrictEqual(yield* Validate.keyOptionsArgument("startByName", undefined), {})
        const error = yield* argumentError(Validate.keyOptionsArgument("startByName", { key: "a\u0000" }))
        assert.strictEqual(error.argument, "options.key")
      }))
  })

  describe("the action reference of the untyped entry points", () => {
    it.effect("accepts two names", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(
          yield* Validate.actionRefArgument("startByName", { application: "shop", action: "deploy" }),
          { application: "shop", action: "deploy" }
        )
      }))

    it.effect.each([
      ["undefined", undefined, "ref"],
      ["null", null, "ref"],
      ["a number", 5, "ref"],
      ["a string", "shop/deploy", "ref"],
      ["an application a number", { application: 5, action: "deploy" }, "ref.application"],
      ["an action left out", { application: "shop" }, "ref.action"],
      ["an empty action", { application: "shop", action: "" }, "ref.action"],
      ["an action with \\u0000", { application: "shop", action: "de\u0000ploy" }, "ref.action"]
    ] as const)("refuses %s", ([, ref, argument]) =>
      Effect.gen(function*() {
        const error = yield* argumentError(Validate.actionRefArgument("startByName", ref))
        assert.strictEqual(error.argument, argument)
      }))
  })

  describe("the job option of errors", () => {
    it.effect("accepts a job name, or none", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* Validate.errorsOptionsArgument({ job: "provision" }), { job: "provision" })
        assert.deepStrictEqual(yield* Validate.errorsOptionsArgument(undefined), {})
      }))

    it.effect.each([["empty", ""], ["a number", 5], ["null", null], ["with a lone surrogate", lone]] as const)(
      "refuses a job %s",
      ([, job]) =>
        Effect.gen(function*() {
          const error = yield* argumentError(Validate.errorsOptionsArgument({ job }))
          assert.strictEqual(error.operation, "errors")
          assert.strictEqual(error.argument, "options.job")
        })
    )
  })
})

describe("validate (class 1: names are checked where they enter; class 6: job timeouts)", () => {
  const job = (name: string) =>
    Job.make(name, { input: Schema.Number, output: Schema.Number, execute: (n: number) => Effect.succeed(n) })

  const untypedDuration = (value: unknown) => value as Duration.Input

  it.effect("accepts a job timeout of a fraction of a millisecond", () =>
    Effect.asVoid(Validate.registerArguments(Action.make("deploy", [Job.timeout(job("a"), 0.5)]), undefined)))

  it.effect("accepts an action whose names are valid, and leaves the application to its default", () =>
    Effect.gen(function*() {
      const action = Action.make("deploy", [job("a"), job("é".repeat(128))])
      const checked = yield* Validate.registerArguments(action, undefined)
      assert.strictEqual(checked.action, action)
      assert.strictEqual(checked.application, undefined)
    }))

  it.effect.each([
    ["an empty action name", Action.make("", [job("a")]), undefined, "action.name"],
    ["an action name of 257 bytes", Action.make(bytes(257), [job("a")]), undefined, "action.name"],
    ["an action name with \\u0000", Action.make("dep\u0000loy", [job("a")]), undefined, "action.name"],
    ["a job name with a lone surrogate", Action.make("deploy", [job("a"), job(`b${lone}`)]), undefined, "action.jobs[1].name"],
    ["an empty job name", Action.make("deploy", [job("")]), undefined, "action.jobs[0].name"],
    ["an application with \\u0000", Action.make("deploy", [job("a")]), { application: "\u0000" }, "options.application"],
    ["an empty application", Action.make("deploy", [job("a")]), { application: "" }, "options.application"],
    ["an application a number", Action.make("deploy", [job("a")]), { application: 7 }, "options.application"],
    ["a job timeout \"30 banana\"", Action.make("deploy", [Job.timeout(job("a"), untypedDuration("30 banana"))]), undefined, "action.jobs[0].timeout"],
    ["a job timeout of 0", Action.make("deploy", [job("a"), Job.timeout(job("b"), 0)]), undefined, "action.jobs[1].timeout"],
    ["a job timeout NaN", Action.make("deploy", [Job.timeout(job("a"), Number.NaN)]), undefined, "action.jobs[0].timeout"],
    ["a negative job timeout", Action.make("deploy", [Job.timeout(job("a"), "-1 seconds")]), undefined, "action.jobs[0].timeout"],
    ["an infinite job timeout", Action.make("deploy", [Job.timeout(job("a"), "Infinity")]), undefined, "action.jobs[0].timeout"],
    ["not an action", { name: "deploy", jobs: [] }, undefined, "action"],
    ["undefined as the action", undefined, undefined, "action"]
  ] as const)("refuses %s", ([, action, options, argument]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Validate.registerArguments(action, options))
      assert.strictEqual(error._tag, "InvalidArgument")
      assert.strictEqual(error.operation, "register")
      assert.strictEqual(error.argument, argument)
    }))
})

describe("validate: descriptions of values", () => {
  it("describes every kind of value briefly", () => {
    assert.strictEqual(Validate.describeValue(undefined), "undefined")
    assert.strictEqual(Validate.describeValue(null), "null")
    assert.strictEqual(Validate.describeValue(Number.NaN), "NaN")
    assert.strictEqual(Validate.describeValue(-0), "-0")
    assert.strictEqual(Validate.describeValue(10n), "10n")
    assert.strictEqual(Validate.describeValue("a"), "\"a\"")
    assert.strictEqual(Validate.describeValue([1, 2]), "an array of 2 items")
    assert.strictEqual(Validate.describeValue({ secs: 5 }), "{\"secs\":5}")
    assert.strictEqual(Validate.describeValue({ seconds: Number.NaN, nanos: 5n }), "{\"seconds\":\"NaN\",\"nanos\":\"5n\"}")
    assert.strictEqual(Validate.describeValue(() => 1), "a function")
  })

  it("shortens a long string and keeps the description storable", () => {
    const shown = Validate.describeValue(`\u0000${lone}${"x".repeat(500)}`)
    assert.isTrue(shown.length < 100)
    assert.include(shown, "(502 characters)")
    assert.strictEqual(Validate.storableString(shown)._tag, "Success")
  })

  it("describes an object that cannot be serialized without failing", () => {
    const cyclic: { self?: unknown } = {}
    cyclic.self = cyclic
    assert.strictEqual(Validate.describeValue(cyclic), "an object")
  })
})
