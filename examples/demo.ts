/**
 * The dashboard demo: `npm run demo` serves the dashboard on 127.0.0.1 (port `PORT`, 8080 by default) over the memory
 * store, with a generator of realistic deployments (most succeed; some fail and roll back; some pause; one rollback
 * fails), and prints its URL. Stop it with Ctrl-C.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Layer } from "effect"
import { demoServer } from "./demo/server.ts"

const port = Number(process.env.PORT ?? 8080)

demoServer({
  port,
  initial: 24,
  every: "3 seconds",
  onListen: (url) => Console.log(`effect-actions dashboard demo: ${url}\n(memory store, generated deployments; Ctrl-C to stop)`)
}).pipe(Layer.launch, NodeRuntime.runMain)
