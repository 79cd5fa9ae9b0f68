/**
 * Quickstart: one action of three jobs, run twice on the in-memory store.
 *
 * The first deployment succeeds. The second fails at its third job, and the runtime rolls back the third job,
 * then the second, then the first, so no cloud resource is left behind. Run it with `npm start`.
 */
import { Context, Effect, Layer, Option, References, Schema } from "effect"
import { Action, Actions, Job } from "effect-actions"

// A pretend cloud, as an Effect service: the jobs need it, and `register` captures it for them.
class DnsNameTaken extends Schema.TaggedError<DnsNameTaken>()("DnsNameTaken", { name: Schema.String }) {
  override get message() {
    return `the DNS name ${this.name} is taken`
  }
}

class Cloud extends Context.Service<Cloud, {
  readonly create: (kind: string, name: string) => Effect.Effect<string>
  readonly remove: (id: string) => Effect.Effect<void>
  readonly registerDns: (name: string, target: string) => Effect.Effect<string, DnsNameTaken>
  readonly allocated: () => ReadonlyArray<string>
}>()("quickstart/Cloud") {
  static readonly layer = Layer.sync(Cloud, () => {
    const resources = new Map<string, string>()
    let next = 1
    return {
      create: (kind, name) =>
        Effect.sync(() => {
          const id = `${kind}-${next++}`
          resources.set(id, name)
          return id
        }),
      remove: (id) => Effect.sync(() => void resources.delete(id)),
      registerDns: (name, target) =>
        name.startsWith("admin")
          ? Effect.fail(new DnsNameTaken({ name }))
          : Effect.sync(() => {
            resources.set(`dns-${name}`, target)
            return `https://${name}.example.test`
          }),
      allocated: () => [...resources.keys()]
    }
  })
}

const say = (job: string, what: string) => Effect.sync(() => console.log(`  ${job.padEnd(14)} ${what}`))

// The jobs: each one's output is the next one's input, checked at compile time.
const App = Schema.Struct({ app: Schema.String })
const WithNetwork = Schema.Struct({ app: Schema.String, networkId: Schema.String })
const WithVm = Schema.Struct({ app: Schema.String, networkId: Schema.String, vmId: Schema.String })
const Deployed = Schema.Struct({ app: Schema.String, vmId: Schema.String, url: Schema.String })

const createNetwork = Job.make("create-network", {
  input: App,
  output: WithNetwork,
  execute: ({ app }) =>
    Effect.gen(function*() {
      const networkId = yield* (yield* Cloud).create("net", app)
      yield* say("create-network", `succeeded: created ${networkId}`)
      return { app, networkId }
    }),
  rollback: ({ output }) =>
    Effect.gen(function*() {
      // `output` is None when this job itself failed: a rollback checks what was really allocated.
      if (Option.isNone(output)) return yield* say("create-network", "rolled back: nothing to undo")
      yield* (yield* Cloud).remove(output.value.networkId)
      yield* say("create-network", `rolled back: deleted ${output.value.networkId}`)
    })
})

const createVm = Job.make("create-vm", {
  input: WithNetwork,
  output: WithVm,
  execute: ({ app, networkId }) =>
    Effect.gen(function*() {
      const vmId = yield* (yield* Cloud).create("vm", app)
      yield* say("create-vm", `succeeded: created ${vmId} in ${networkId}`)
      return { app, networkId, vmId }
    }),
  rollback: ({ output }) =>
    Effect.gen(function*() {
      if (Option.isNone(output)) return yield* say("create-vm", "rolled back: nothing to undo")
      yield* (yield* Cloud).remove(output.value.vmId)
      yield* say("create-vm", `rolled back: deleted ${output.value.vmId}`)
    })
})

const registerDns = Job.make("register-dns", {
  input: WithVm,
  output: Deployed,
  error: DnsNameTaken,
  execute: ({ app, vmId }) =>
    Effect.gen(function*() {
      const url = yield* (yield* Cloud).registerDns(app, vmId).pipe(
        Effect.tapError((error) => say("register-dns", `failed: ${error.message}`))
      )
      yield* say("register-dns", `succeeded: ${url}`)
      return { app, vmId, url }
    }),
  rollback: ({ output }) =>
    Effect.gen(function*() {
      if (Option.isNone(output)) return yield* say("register-dns", "rolled back: nothing to undo (it failed before registering)")
      yield* (yield* Cloud).remove(`dns-${output.value.app}`)
      yield* say("register-dns", "rolled back")
    })
})

const DeployApp = Action.make("deploy-app", [createNetwork, createVm, registerDns])

const printRecord = (deploymentId: string) =>
  Effect.gen(function*() {
    const actions = yield* Actions.Actions
    const deployment = yield* actions.get(deploymentId)
    console.log(`\nThe record of deployment ${deployment.id} (actions.get):`)
    console.log(`  action ${deployment.application}/${deployment.action}, status ${deployment.status}`)
    console.log(`  ${"job".padEnd(15)}${"status".padEnd(13)}${"attempts".padEnd(10)}input -> output`)
    for (const job of deployment.jobs) {
      const show = (value: Option.Option<unknown>) => Option.match(value, { onNone: () => "-", onSome: (v) => JSON.stringify(v) })
      console.log(`  ${job.name.padEnd(15)}${job.status.padEnd(13)}${String(job.attempts).padEnd(10)}${show(job.input)} -> ${show(job.output)}`)
    }
    for (const entry of yield* actions.errors(deploymentId)) {
      console.log(`  error log #${entry.sequence}: ${Option.getOrElse(entry.job, () => "-")} ${entry.phase} ${entry.tag}: ${entry.message}`)
    }
  })

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  const cloud = yield* Cloud
  yield* actions.register(DeployApp, { application: "quickstart" })
  console.log(`effect-actions quickstart: action "deploy-app" = create-network -> create-vm -> register-dns\n`)

  console.log(`Deployment 1: app "shop"`)
  const shop = yield* actions.execute(DeployApp, { app: "shop" })
  console.log(`  => succeeded: ${JSON.stringify(shop.output)}`)

  console.log(`\nDeployment 2: app "admin" (its DNS name is taken, so register-dns fails)`)
  const failed = yield* Effect.flip(actions.execute(DeployApp, { app: "admin" }))
  if (failed._tag !== "DeploymentFailed") return yield* Effect.fail(failed)
  console.log(`  => ${failed.status}: job "${failed.job}" failed (${failed.reason}); the jobs before it were undone in reverse order`)

  yield* printRecord(failed.deploymentId)
  console.log(`\nCloud resources still allocated: ${cloud.allocated().join(", ")} (the first deployment's, and nothing of the second's)`)
})

program.pipe(
  Effect.provide(Layer.mergeAll(Actions.layerMemory({ recovery: { enabled: false } }), Cloud.layer)),
  // The runtime logs job failures at Info; this example prints its own account instead.
  Effect.provideService(References.MinimumLogLevel, "Warn"),
  Effect.runPromise
).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
