// The README's example, kept here so that `npm test` type-checks it. Run it with `node examples/readme.ts`.
import { Effect, Option, Schema } from "effect"
import { Action, Actions, Job } from "effect-actions"

const CreateVm = Job.make("create-vm", {
  input: Schema.Struct({ app: Schema.String }),
  output: Schema.Struct({ app: Schema.String, vmId: Schema.String }),
  execute: ({ app }) => Effect.succeed({ app, vmId: `vm-${app}` }),        // your cloud call
  rollback: ({ output }) =>                                                // None when create-vm itself failed
    Option.match(output, { onNone: () => Effect.void, onSome: ({ vmId }) => Effect.log(`delete ${vmId}`) })
})
const RegisterDns = Job.make("register-dns", {
  input: Schema.Struct({ app: Schema.String, vmId: Schema.String }),       // must accept create-vm's output:
  output: Schema.Struct({ url: Schema.String }),                           // checked at compile time
  execute: ({ app }) => Effect.succeed({ url: `https://${app}.example.test` })
})
const DeployApp = Action.make("deploy-app", [CreateVm, RegisterDns])

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  yield* actions.register(DeployApp, { application: "shop" })
  const { deploymentId, output } = yield* actions.execute(DeployApp, { app: "web" }, { key: "web-1" })
  console.log(deploymentId, output.url)
})

Effect.runPromise(program.pipe(Effect.provide(Actions.layerMemory())))
