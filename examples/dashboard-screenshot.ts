/**
 * Makes the README's screenshot of the dashboard (`docs/images/dashboard.png`) and one of a rolled-back deployment
 * (`docs/images/dashboard-deployment.png`) from the demo, with the browser tests' screenshot code:
 * `node examples/dashboard-screenshot.ts` (needs Chromium, see `docs/dashboard.md`).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Deferred, Effect, Layer } from "effect"
import { fileURLToPath } from "node:url"
import { browser, page, screenshot } from "../test/support/browser.ts"
import { demoServer } from "./demo/server.ts"

const out = (name: string) => fileURLToPath(new URL(`../docs/images/${name}`, import.meta.url))

const main = Effect.gen(function*() {
  const listening = yield* Deferred.make<string>()
  yield* Layer.build(demoServer({ port: 0, initial: 24, every: "1 second", onListen: (url) => Deferred.succeed(listening, url) }))
  const url = yield* Deferred.await(listening)
  yield* Effect.sleep("9 seconds") // the first batch runs to its ends
  const tab = yield* page(yield* browser)
  yield* Effect.promise(() => tab.goto(url))
  yield* Effect.promise(() => tab.waitForSelector("tr[data-id]"))
  yield* screenshot(tab, out("dashboard.png"))
  yield* Effect.promise(async () => {
    await tab.goto(`${url}#/?status=rollback_failed`)
    await tab.locator("tr[data-id] a").first().click()
    await tab.waitForSelector(".bar.rollback")
  })
  yield* screenshot(tab, out("dashboard-deployment.png"))
  yield* Effect.log(`wrote ${out("dashboard.png")} and ${out("dashboard-deployment.png")}`)
}).pipe(Effect.scoped)

NodeRuntime.runMain(main)
