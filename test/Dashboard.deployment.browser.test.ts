/**
 * A deployment's page of the dashboard in a real browser (system Chromium through `playwright-core`), against a real
 * server on 127.0.0.1 that serves the page and the operator API over PostgreSQL: the JSON viewer on long values,
 * times in the viewer's zone (in the summary and in the timeline's labels), roll back and retry rollback from the
 * page, the error log's phases and the timeline's durations, what the viewer opened and focused kept when the page
 * is drawn again, the dialog during an operation in flight, nothing loaded from elsewhere, and `h()` refusing an
 * inline handler.
 */
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { Action, Actions, Job } from "effect-actions"
import type { Page } from "playwright-core"
import { page as newPage, timeZone } from "./support/browser.ts"
import { Browser, DashboardServed, open, Origin, ui } from "./support/dashboard.ts"
import { readUntil } from "./support/http.ts"
import { Boom, Counter } from "./support/jobs.ts"
import { Quota, registerAll, Teardown } from "./support/operator.ts"
import { PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"

const application = `page-${crypto.randomUUID().slice(0, 8)}`

/** A note over the viewer's cut (160 characters), and under 1,000 (so that its length prints without a separator). */
const note = "Every host of the fleet, with its rack, its power feed, its last audit and who signed it off. ".repeat(5)
/** What `inventory` returns: a long string, an array over the viewer's 25 entries, and an object two levels down. */
const inventory = {
  note,
  hosts: Array.from({ length: 30 }, (_, i) => `host-${String(i + 1).padStart(2, "0")}`),
  meta: { labels: { team: "storage", tier: "gold" } }
}
const Inventory = Schema.Struct({
  note: Schema.String,
  hosts: Schema.Array(Schema.String),
  meta: Schema.Struct({ labels: Schema.Struct({ team: Schema.String, tier: Schema.String }) })
})

/** `bulky` (failure policy `pause`): `inventory` outputs `inventory`, then `approve` fails, so it pauses there. */
const Bulky = Action.make("bulky", [
  Job.make("inventory", { input: Counter, output: Inventory, execute: () => Effect.succeed(inventory), rollback: () => Effect.void }),
  Job.make("approve", { input: Inventory, output: Inventory, error: Boom, execute: () => Effect.fail(new Boom({ job: "approve" })) })
], { onFailure: "pause" })

const TestLayer = DashboardServed.pipe(
  Layer.provideMerge(Layer.effectDiscard(Effect.gen(function*() {
    yield* registerAll(application)
    yield* (yield* Actions.Actions).register(Bulky, { application })
  }))),
  Layer.provideMerge(Actions.layer({ recovery: { enabled: false } })),
  Layer.provideMerge(storeLayer(uniquePrefix())),
  Layer.provideMerge(PgLive)
)

/** A paused `bulky` deployment's page, with the `inventory` job's section opened. */
const pausedBulky = Effect.gen(function*() {
  const id = yield* (yield* Actions.Actions).start(Bulky, { n: 1 }, { application })
  yield* readUntil(id, (d) => d.status === "paused")
  const page = yield* open(`#/deployments/${id}`)
  yield* ui(() => page.locator('details.job[data-job="inventory"] > summary').click())
  return { id, page, output: page.locator('[data-json="output of inventory"]') }
})

const isOpen = (page: Page, selector: string) =>
  ui(() => page.locator(selector).evaluate((details) => (details as HTMLDetailsElement).open))

/** Each test's limit: the page's waits give up after 10 s each, so a slow machine still fits. */
const testTimeout = 30_000

layer(TestLayer, { excludeTestServices: true, timeout: "90 seconds" })("a deployment's page in Chromium", (it) => {
  it.effect("cuts long strings and arrays short, shows them in full on request, collapses and expands, and shows the whole value as text", () =>
    Effect.gen(function*() {
      const { id, page, output } = yield* pausedBulky
      const string = output.locator('[data-path="/note"] .j-string')
      assert.strictEqual(yield* ui(() => string.textContent()), `${JSON.stringify(note.slice(0, 160))}…`, "cut at 160 characters")
      yield* ui(() => output.getByRole("button", { name: `show all ${note.length} characters` }).click())
      assert.strictEqual(yield* ui(() => string.textContent()), JSON.stringify(note))

      const hosts = output.locator('details[data-path="/hosts"] > ul > li')
      assert.strictEqual(yield* ui(() => hosts.count()), 26, "25 items and the control")
      yield* ui(() => output.getByRole("button", { name: "show 5 more" }).click())
      assert.deepStrictEqual(yield* ui(() => hosts.allTextContents()), inventory.hosts.map((host) => JSON.stringify(host)))

      const root = '[data-json="output of inventory"] details[data-path=""]'
      const labels = '[data-json="output of inventory"] details[data-path="/meta/labels"]'
      assert.deepStrictEqual([yield* isOpen(page, root), yield* isOpen(page, labels)], [true, false], "open two levels deep")
      yield* ui(() => page.locator(`${root} > summary`).click())
      assert.strictEqual(yield* isOpen(page, root), false, "collapsed")
      yield* ui(() => page.locator(`${root} > summary`).click())
      yield* ui(() => page.locator(`${labels} > summary`).click())
      assert.deepStrictEqual([yield* isOpen(page, root), yield* isOpen(page, labels)], [true, true], "expanded")

      // The value as the page received it (the store may order its keys differently from `inventory`).
      const received = yield* ui(() => page.evaluate(async (id) => {
        const deployment = await (await fetch(`/api/deployments/${id}`)).json() as { jobs: Array<{ output: unknown }> }
        return deployment.jobs[0]!.output
      }, id))
      assert.deepStrictEqual(received, inventory)
      yield* ui(() => page.getByRole("button", { name: "Show the whole output of inventory as text" }).click())
      assert.strictEqual(yield* ui(() => output.locator("pre").textContent()), JSON.stringify(received, null, 2))
    }), testTimeout)

  it.effect("keeps what the viewer opened, collapsed, expanded and focused when a change draws the page again", () =>
    Effect.gen(function*() {
      const { id, page, output } = yield* pausedBulky
      yield* ui(() => output.getByRole("button", { name: /^show all/ }).click())
      yield* ui(() => output.getByRole("button", { name: "show 5 more" }).click())
      yield* ui(() => output.locator('details[data-path="/hosts"] > summary').click())
      yield* ui(() => output.locator('details[data-path="/meta/labels"] > summary').click())
      const bar = '.tl-row[data-job="inventory"] .bar.forward'
      yield* ui(() => page.locator(bar).focus())

      yield* (yield* Actions.Actions).stop(id) // a change: the page reads the deployment again and draws it again
      yield* ui(() => page.waitForSelector("h1 .status[data-status='rolled_back']"))
      yield* ui(() => page.waitForSelector('.tl-row[data-job="inventory"] .bar.rollback'))

      assert.strictEqual(yield* isOpen(page, 'details.job[data-job="inventory"]'), true, "the job's section stays open")
      assert.strictEqual(yield* ui(() => output.locator('.j-string[data-path="/note"]').textContent()), JSON.stringify(note), "still in full")
      assert.strictEqual(yield* ui(() => output.locator('details[data-path="/hosts"] > ul > li').count()), 30, "still all items")
      assert.strictEqual(yield* isOpen(page, '[data-json="output of inventory"] details[data-path="/hosts"]'), false, "still collapsed")
      assert.strictEqual(yield* isOpen(page, '[data-json="output of inventory"] details[data-path="/meta/labels"]'), true, "still expanded")
      const focused = yield* ui(() => page.evaluate(() => document.activeElement?.getAttribute("data-focus") ?? null))
      assert.strictEqual(focused, "bar 0 forward", "the focus is back on the bar")
      const same = yield* ui(() => page.locator(bar).evaluate((element) => element === document.activeElement))
      assert.isTrue(same)
    }), testTimeout)

  it.effect("shows times in the viewer's zone, in UTC on hover, and bars labelled in both", () =>
    Effect.gen(function*() {
      const { page } = yield* pausedBulky
      const zone = yield* ui(() => page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone))
      assert.strictEqual(zone, timeZone)
      const times = yield* ui(() => page.locator(".summary time").evaluateAll((elements, zone) => {
        const options = { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" } as const
        const inZone = new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone })
        const inUtc = new Intl.DateTimeFormat(undefined, { ...options, timeZone: "UTC" })
        return elements.map((element) => {
          const iso = element.getAttribute("datetime") ?? ""
          return {
            text: element.textContent,
            local: inZone.format(new Date(iso)),
            utc: inUtc.format(new Date(iso)),
            title: element.getAttribute("title"),
            expectedTitle: `UTC: ${new Date(iso).toISOString().replace("T", " ").replace("Z", " UTC")}`
          }
        })
      }, timeZone))
      assert.isAtLeast(times.length, 4)
      for (const time of times) {
        assert.strictEqual(time.text, time.local, "the viewer's zone")
        assert.notStrictEqual(time.text, time.utc, "not UTC")
        assert.strictEqual(time.title, time.expectedTitle)
      }

      const bars = yield* ui(() => page.locator(".bar[data-start]").evaluateAll((elements, zone) => {
        const inZone = new Intl.DateTimeFormat(undefined, {
          year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3, timeZone: zone
        })
        return elements.map((element) => {
          const start = new Date(element.getAttribute("data-start") ?? "")
          return {
            label: element.getAttribute("aria-label") ?? "",
            title: element.getAttribute("title"),
            local: inZone.format(start),
            utc: `[UTC ${start.toISOString().replace("T", " ").replace("Z", "")}`
          }
        })
      }, timeZone))
      assert.isAtLeast(bars.length, 2)
      for (const bar of bars) {
        assert.include(bar.label, `, ${bar.local} → `, "the start in the viewer's zone")
        assert.include(bar.label, bar.utc, "and in UTC")
        assert.strictEqual(bar.title, bar.label)
      }
    }), testTimeout)

  it.effect("rolls a paused deployment back from its page after a confirmation that says what will happen", () =>
    Effect.gen(function*() {
      const id = yield* (yield* Actions.Actions).start(Quota, { n: 1 }, { application })
      yield* readUntil(id, (d) => d.status === "paused")
      const page = yield* open(`#/deployments/${id}`)
      yield* ui(() => page.getByRole("button", { name: "Roll back", exact: true }).click())
      const dialog = page.getByRole("dialog")
      assert.strictEqual(
        yield* ui(() => dialog.locator(".consequence").textContent()),
        "The deployment rolls back as if check-quota had failed now: its rollback runs, then the completed jobs' in reverse order: reserve."
      )
      yield* ui(() => dialog.getByLabel(/Reason/).fill("the quota will not be raised"))
      yield* ui(() => dialog.getByRole("button", { name: "Roll back" }).click())
      yield* readUntil(id, (d) => d.status === "rolled_back")
      yield* ui(() => page.getByText("Roll back: done.").waitFor())
      yield* ui(() => page.waitForSelector("h1 .status[data-status='rolled_back']"))
      const history = page.locator('tr[data-operation="rollback"]')
      assert.strictEqual(yield* ui(() => history.locator("td").nth(5).textContent()), "the quota will not be raised", "the reason, in the history")
    }), testTimeout)

  it.effect("retries a failed rollback from its page; the error log shows each entry's phase, the timeline each bar's duration", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      yield* Effect.exit(actions.execute(Teardown, { n: 1 }, { application }))
      const id = (yield* actions.list({ application, action: "teardown", limit: 1 })).items[0]!.id
      assert.strictEqual((yield* actions.get(id)).status, "rollback_failed")
      const page = yield* open(`#/deployments/${id}`)

      yield* ui(() => page.waitForSelector("table.log tr[data-phase]"))
      const phases = yield* ui(() => page.locator("table.log tr[data-phase]").evaluateAll((rows) =>
        rows.map((row) => [row.getAttribute("data-phase"), row.querySelector(".phase")?.textContent ?? null])
      ))
      assert.deepStrictEqual(phases, [["execute", "execute"], ["rollback", "rollback"]], "explode failed, then release's rollback")
      const texts = yield* ui(() => page.locator(".bar .bar-text").allTextContents())
      const durations = texts.filter((text) => /\d+(\.\d+)? ?(ms|s)\b/.test(text))
      assert.isAtLeast(durations.length, 2, texts.join(" | "))

      yield* ui(() => page.getByRole("button", { name: "Retry rollback", exact: true }).click())
      const dialog = page.getByRole("dialog")
      assert.strictEqual(
        yield* ui(() => dialog.locator(".consequence").textContent()),
        "The failed rollbacks run again, in reverse order: release. Rollbacks already done do not run again. It ends rolled back, or rollback failed again."
      )
      yield* ui(() => dialog.getByRole("button", { name: "Retry rollback" }).click())
      yield* readUntil(id, (d) => d.status === "rolled_back")
      yield* ui(() => page.getByText("Retry rollback: done.").waitFor())
      yield* ui(() => page.waitForSelector("h1 .status[data-status='rolled_back']"))
    }), testTimeout)

  it.effect("keeps the dialog through Escape while the operation is in flight, then shows its receipt", () =>
    Effect.gen(function*() {
      const id = yield* (yield* Actions.Actions).start(Quota, { n: 2 }, { application })
      yield* readUntil(id, (d) => d.status === "paused")
      const page = yield* open(`#/deployments/${id}`)
      let release: () => void = () => {}
      const released = new Promise<void>((resolve) => { release = resolve })
      let arrived: () => void = () => {}
      const inFlight = new Promise<void>((resolve) => { arrived = resolve })
      yield* ui(() => page.route("**/api/deployments/*/stop", async (route) => {
        arrived()
        await released
        await route.continue()
      }))
      yield* ui(() => page.getByRole("button", { name: "Stop", exact: true }).click())
      yield* ui(() => page.getByRole("dialog").getByRole("button", { name: "Stop" }).click())
      yield* ui(() => inFlight)
      assert.isTrue(yield* ui(() => page.locator("#confirm-cancel").isDisabled()), "Cancel is disabled in flight")
      yield* ui(() => page.keyboard.press("Escape"))
      assert.isTrue(yield* ui(() => page.locator("dialog#confirm").evaluate((d) => (d as HTMLDialogElement).open)), "still open")
      release()
      yield* ui(() => page.getByText("Stop: done.").waitFor())
      yield* ui(() => page.getByRole("dialog").waitFor({ state: "hidden" }))
      yield* ui(() => page.waitForSelector("h1 .status[data-status='rolled_back']"))
      assert.strictEqual((yield* (yield* Actions.Actions).get(id)).status, "rolled_back")
    }), testTimeout)

  it.effect("loads nothing from another origin: its files, the API and the event stream are the server's", () =>
    Effect.gen(function*() {
      const page = yield* newPage(yield* Browser)
      page.setDefaultTimeout(10_000)
      const origin = yield* Origin
      const requested: Array<string> = []
      page.on("request", (request) => requested.push(request.url()))
      const id = yield* (yield* Actions.Actions).start(Quota, { n: 3 }, { application })
      yield* readUntil(id, (d) => d.status === "paused")
      yield* ui(() => page.goto(`${origin}/#/?application=${application}`))
      yield* ui(() => page.waitForSelector(`tr[data-id="${id}"]`))
      yield* ui(() => page.locator(`tr[data-id="${id}"] a`).click())
      yield* ui(() => page.waitForSelector(".bar.forward"))
      yield* ui(() => page.evaluate("document.fonts.ready"))
      assert.includeMembers(requested, [`${origin}/`, `${origin}/assets/app.js`, `${origin}/assets/style.css`])
      assert.isTrue(requested.some((url) => url.startsWith(`${origin}/api/events`)))
      assert.deepStrictEqual(requested.filter((url) => new URL(url).origin !== origin), [])
    }), testTimeout)

  it.effect("builds no element with an inline handler: h() refuses an on* attribute that is not a function", () =>
    Effect.gen(function*() {
      const page = yield* open("#/")
      yield* ui(() => page.waitForSelector("h1"))
      // The page's own module, as the page loads it (a module script puts its `h` on the window for the test).
      yield* ui(() => page.addScriptTag({ type: "module", content: 'import { h } from "/assets/dom.js"; window.h = h' }))
      yield* ui(() => page.waitForFunction(() => "h" in window))
      const outcomes = yield* ui(() => page.evaluate(() => {
        const { h } = window as unknown as { h: (tag: string, attributes: Record<string, unknown>) => HTMLElement }
        const attempt = (attributes: Record<string, unknown>) => {
          try {
            return h("a", attributes).outerHTML
          } catch (error) {
            return error instanceof TypeError ? "TypeError" : String(error)
          }
        }
        let clicked = false
        const button = h("button", { onclick: () => { clicked = true } })
        button.click()
        return {
          string: attempt({ onclick: "alert(1)" }),
          upper: attempt({ ONMOUSEOVER: "alert(1)" }),
          number: attempt({ onload: 1 }),
          listener: [button.outerHTML, clicked]
        }
      }))
      assert.deepStrictEqual(outcomes, {
        string: "TypeError",
        upper: "TypeError",
        number: "TypeError",
        listener: ["<button></button>", true]
      })
    }), testTimeout)
})
