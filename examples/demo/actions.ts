/**
 * The demo's actions and its generator of realistic deployments: most succeed; some fail and roll back (one always
 * does: it asks for more machines than the region's quota); some pause (`onFailure: "pause"`) until an operator
 * retries or rolls them back; one rollback fails (retry it from the page).
 */
import { Duration, Effect, Option, Random, Schedule, Schema } from "effect"
import { Action, Actions, Job, JobContext, State } from "effect-actions"

class ProviderError extends Schema.TaggedError<ProviderError>()("ProviderError", {
  operation: Schema.String,
  status: Schema.Int
}) {
  override get message() {
    return `the provider answered ${this.status} to ${this.operation}`
  }
}

class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  region: Schema.String,
  requested: Schema.Int,
  available: Schema.Int
}) {
  override get message() {
    return `${this.requested} machines requested in ${this.region}, ${this.available} available`
  }
}

/** Work that takes a while: between `min` and `max` milliseconds. */
const work = (min: number, max: number) =>
  Effect.flatMap(Random.nextIntBetween(min, max), (millis) => Effect.sleep(Duration.millis(millis)))

/** Fails with `error` with probability `p`. */
const sometimes = <E>(p: number, error: () => E) =>
  Effect.flatMap(Random.next, (roll) => roll < p ? Effect.fail(error()) : Effect.void)

const Release = Schema.Struct({ service: Schema.String, version: Schema.String, region: Schema.String, replicas: Schema.Int })
const Built = Schema.Struct({ ...Release.fields, image: Schema.String, digest: Schema.String })
const Provisioned = Schema.Struct({ ...Built.fields, machines: Schema.Array(Schema.String) })
const Live = Schema.Struct({ url: Schema.String, machines: Schema.Array(Schema.String) })

/** The release's progress, shared by the jobs of a deployment (the page shows it as the state). */
const Progress = State.make("Progress", {
  schema: Schema.Struct({ step: Schema.String, notes: Schema.Array(Schema.String) }),
  initial: { step: "queued", notes: [] }
})
const note = (step: string, text: string) => Progress.update((p) => ({ step, notes: [...p.notes, text] }))

/** The machines a region grants a release: a release that asks for more fails to provision, and rolls back. */
export const regionQuota = 8

/** `deploy-service`: build, provision, migrate, switch traffic; any step may fail, and the completed ones roll back. */
export const DeployService = Action.make("deploy-service", [
  Job.make("build-image", {
    input: Release,
    output: Built,
    error: ProviderError,
    execute: (release) =>
      Effect.gen(function*() {
        yield* work(300, 1200)
        yield* sometimes(0.04, () => new ProviderError({ operation: "registry push", status: 502 }))
        yield* note("built", `image ${release.service}:${release.version}`)
        return { ...release, image: `registry.example.test/${release.service}:${release.version}`, digest: `sha256:${crypto.randomUUID().replaceAll("-", "")}` }
      }),
    rollback: () => Effect.andThen(work(100, 300), note("rolled back", "image untagged"))
  }),
  Job.make("provision-machines", {
    input: Built,
    output: Provisioned,
    error: QuotaExceeded,
    execute: (built) =>
      Effect.gen(function*() {
        yield* work(400, 1500)
        if (built.replicas > regionQuota) {
          return yield* new QuotaExceeded({ region: built.region, requested: built.replicas, available: regionQuota })
        }
        yield* sometimes(0.08, () => new QuotaExceeded({ region: built.region, requested: built.replicas, available: built.replicas - 1 }))
        const machines = Array.from({ length: built.replicas }, (_, i) => `${built.service}-${built.region}-${i + 1}`)
        const context = yield* JobContext.JobContext
        yield* Effect.orDie(context.setData("machines", Schema.Array(Schema.String), machines))
        yield* Effect.orDie(context.setData("cloud-init", Schema.String, `#cloud-config\n${"packages:\n  - nginx\n".repeat(30)}`))
        yield* note("provisioned", `${machines.length} machines in ${built.region}`)
        return { ...built, machines }
      }),
    rollback: ({ output }) =>
      Effect.andThen(work(300, 900), note("rolled back", Option.isSome(output) ? `${output.value.machines.length} machines deleted` : "nothing to delete"))
  }),
  Job.make("migrate-database", {
    input: Provisioned,
    output: Provisioned,
    error: ProviderError,
    execute: (provisioned) =>
      Effect.gen(function*() {
        yield* work(200, 1000)
        yield* sometimes(0.06, () => new ProviderError({ operation: "ALTER TABLE orders", status: 409 }))
        yield* note("migrated", "schema 42 → 43")
        return provisioned
      }),
    rollback: () => Effect.andThen(work(200, 700), note("rolled back", "schema 43 → 42"))
  }),
  Job.make("switch-traffic", {
    input: Provisioned,
    output: Live,
    error: ProviderError,
    execute: ({ service, region, machines }) =>
      Effect.gen(function*() {
        yield* work(200, 800)
        yield* sometimes(0.05, () => new ProviderError({ operation: "load balancer update", status: 503 }))
        yield* note("live", `traffic on ${machines.length} machines`)
        return { url: `https://${service}.${region}.example.test`, machines }
      })
  })
], { state: Progress })

const Certificate = Schema.Struct({ domain: Schema.String })
const Issued = Schema.Struct({ domain: Schema.String, serial: Schema.String })

/** `renew-certificate` (failure policy `pause`): a DNS check that fails pauses the deployment for an operator. */
export const RenewCertificate = Action.make("renew-certificate", [
  Job.make("request-certificate", {
    input: Certificate,
    output: Issued,
    execute: ({ domain }) => Effect.as(work(200, 600), { domain, serial: crypto.randomUUID().slice(0, 8) }),
    rollback: () => work(100, 300)
  }),
  Job.make("validate-dns", {
    input: Issued,
    output: Issued,
    error: ProviderError,
    execute: (issued) =>
      Effect.andThen(
        work(200, 700),
        issued.domain.startsWith("legacy") ? Effect.fail(new ProviderError({ operation: `TXT _acme-challenge.${issued.domain}`, status: 404 })) : Effect.succeed(issued)
      ),
    rollback: () => work(100, 300)
  }),
  Job.make("install-certificate", { input: Issued, output: Issued, execute: (issued) => Effect.as(work(200, 500), issued) })
], { onFailure: "pause" })

const Pool = Schema.Struct({ pool: Schema.String, from: Schema.Int, to: Schema.Int })

/**
 * `resize-pool`: the resize fails, and the rollback of `drain-nodes` fails the first time (the nodes are still
 * cordoned), so the deployment ends `rollback_failed`; a retry of the rollback succeeds.
 */
export const ResizePool = Action.make("resize-pool", [
  Job.make("snapshot-volumes", { input: Pool, output: Pool, execute: (p) => Effect.as(work(300, 700), p), rollback: () => work(200, 400) }),
  Job.make("drain-nodes", {
    input: Pool,
    output: Pool,
    execute: (p) => Effect.as(work(400, 900), p),
    rollback: () =>
      Effect.gen(function*() {
        yield* work(300, 600)
        const context = yield* JobContext.JobContext
        const earlier = yield* context.errors({ currentJobOnly: true })
        if (!earlier.some((entry) => entry.phase === "rollback")) {
          return yield* new ProviderError({ operation: "uncordon nodes", status: 500 })
        }
      })
  }),
  Job.make("resize", {
    input: Pool,
    output: Pool,
    error: QuotaExceeded,
    execute: ({ pool, to, from }) => Effect.andThen(work(300, 800), Effect.fail(new QuotaExceeded({ region: pool, requested: to, available: from })))
  })
])

const services = ["checkout", "catalog", "search", "payments", "accounts", "gateway"]
const regions = ["eu-west-1", "us-east-1", "ap-south-1"]

/** Registers the demo's actions. */
export const registerDemo = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  yield* actions.register(DeployService, { application: "shop" })
  yield* actions.register(RenewCertificate, { application: "edge" })
  yield* actions.register(ResizePool, { application: "platform" })
})

const pick = <A>(items: ReadonlyArray<A>) => Effect.map(Random.next, (roll) => items[Math.floor(roll * items.length)]!)

/** Starts one deployment: mostly `deploy-service`, sometimes a certificate renewal. */
const startOne = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  const roll = yield* Random.next
  if (roll < 0.8) {
    const service = yield* pick(services)
    const minor = yield* Random.nextIntBetween(0, 40)
    yield* actions.start(DeployService, {
      service,
      version: `2.${minor}.${yield* Random.nextIntBetween(0, 9)}`,
      region: yield* pick(regions),
      replicas: yield* Random.nextIntBetween(2, 6)
    }, { application: "shop", key: `${service}-2.${minor}-${crypto.randomUUID().slice(0, 4)}` })
  } else {
    const legacy = (yield* Random.next) < 0.3
    yield* actions.start(RenewCertificate, { domain: `${legacy ? "legacy" : "www"}.${yield* pick(services)}.example.test` }, { application: "edge" })
  }
})

/**
 * The generator: a first batch (with one `resize-pool`, whose rollback fails, one paused renewal, and one release
 * over the region's quota, which rolls back), then a new deployment every `every` until interrupted.
 */
export const generate = (options: { readonly initial: number; readonly every: Duration.Input }) =>
  Effect.gen(function*() {
    const actions = yield* Actions.Actions
    yield* actions.start(ResizePool, { pool: "batch-workers", from: 12, to: 40 }, { application: "platform", key: "batch-workers-40" })
    yield* actions.start(RenewCertificate, { domain: "legacy.accounts.example.test" }, { application: "edge", key: "legacy-accounts" })
    yield* actions.start(
      DeployService,
      { service: "search", version: "3.0.0", region: "ap-south-1", replicas: regionQuota + 4 },
      { application: "shop", key: "search-3.0-over-quota" }
    )
    for (let i = 0; i < options.initial; i++) {
      yield* startOne
      yield* Effect.sleep("60 millis")
    }
    yield* startOne.pipe(Effect.repeat(Schedule.spaced(options.every)))
  }).pipe(Effect.tapCause((cause) => Effect.logError("the demo generator stopped", cause)), Effect.orDie)
