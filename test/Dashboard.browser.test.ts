/**
 * The dashboard in a real browser (system Chromium through `playwright-core`), against a real server on 127.0.0.1
 * that serves the page and the operator API over PostgreSQL: the list and its filters, a live update, the timeline
 * of a rolled-back deployment, stop and retry from the page, the bulk dry run, and keyboard access. The tests write
 * screenshots of the list, of a deployment page and of the retry dialog with its 400 to `test-screenshots/` (gitignored).
 */
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Action, Actions, Job } from "effect-actions"
import type { Page } from "playwright-core"
import { screenshot, screenshotsDir } from "./support/browser.ts"
import { DashboardServed, open, ui } from "./support/dashboard.ts"
import { readUntil } from "./support/http.ts"
import { Boom, Counter } from "./support/jobs.ts"
import { Explode, Hold, Provision, Quota, registerAll } from "./support/operator.ts"
import { PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"

const application = `ui-${crypto.randomUUID().slice(0, 8)}`
/** The bulk test's own application, so that no other test's deployment matches its filters. */
const bulkApplication = `${application}-bulk`

const step = (name: string) =>
  Job.make(name, {
    input: Counter,
    output: Counter,
    execute: ({ n }) => Effect.as(Effect.sleep("15 millis"), { n: n + 1 }),
    rollback: () => Effect.sleep("15 millis")
  })

/** `chain`: three jobs that succeed, then one that fails, so the three roll back in reverse order. */
const Chain = Action.make("chain", [
  step("reserve-ip"),
  step("create-disk"),
  step("boot-vm"),
  Job.make("health-check", {
    input: Counter,
    output: Counter,
    error: Boom,
    execute: () => Effect.andThen(Effect.sleep("15 millis"), Effect.fail(new Boom({ job: "health-check" })))
  })
])

const TestLayer = DashboardServed.pipe(
  Layer.provideMerge(Layer.effectDiscard(Effect.gen(function*() {
    yield* registerAll(application)
    yield* (yield* Actions.Actions).register(Chain, { application })
    yield* (yield* Actions.Actions).register(Quota, { application: bulkApplication })
  }))),
  Layer.provideMerge(Actions.layer({ recovery: { enabled: false } })),
  Layer.provideMerge(storeLayer(uniquePrefix())),
  Layer.provideMerge(PgLive)
)

const rowIds = (page: Page) =>
  page.locator("tbody tr[data-id]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-id")))

const listOf = (filters: string) => `#/?application=${application}${filters}`

layer(TestLayer, { excludeTestServices: true, timeout: "90 seconds" })("dashboard in Chromium", (it) => {
  it.effect("lists deployments newest first with counts per status, and filters by status, action, key and time", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const a = (yield* actions.execute(Provision, { name: "list-a" }, { application, key: "web-a" })).deploymentId
      const b = (yield* actions.execute(Provision, { name: "list-b" }, { application, key: "web-b" })).deploymentId
      yield* Effect.exit(actions.execute(Explode, { name: "list-c" }, { application }))
      const c = (yield* actions.list({ application, action: "explode", limit: 1 })).items[0]!.id
      const page = yield* open(listOf("&action=provision"))
      yield* ui(() => page.waitForSelector(`tr[data-id="${b}"]`))
      const ids = yield* ui(() => rowIds(page))
      assert.deepStrictEqual(ids.slice(0, 2), [b, a], "newest first")
      const badge = yield* ui(() => page.locator(`tr[data-id="${b}"] .status`).textContent())
      assert.strictEqual(badge?.replace(/\s+/g, " ").trim(), "✓ succeeded", "an icon and a word, not colour alone")

      // All actions of the application: the counts, and a status filter from the form.
      yield* ui(() => page.goto(`${page.url().split("#")[0]}${listOf("")}`))
      yield* ui(() => page.waitForSelector(`tr[data-id="${c}"]`))
      const rolledBack = yield* ui(() => page.locator('[data-count-status="rolled_back"] .count-value').textContent())
      assert.isAtLeast(Number(rolledBack), 1)
      yield* ui(() => page.getByLabel("Status", { exact: true }).selectOption("rolled_back"))
      yield* ui(() => page.waitForFunction((id) => {
        const rows = [...document.querySelectorAll("tbody tr[data-id]")]
        return rows.length > 0 &&
          rows.every((row) => row.getAttribute("data-status") === "rolled_back") &&
          rows.some((row) => row.getAttribute("data-id") === id)
      }, c))
      assert.include(page.url(), "status=rolled_back", "the filters are in the address")

      // The search by key, then a time range that excludes everything.
      yield* ui(() => page.goto(`${page.url().split("#")[0]}${listOf("")}`))
      yield* ui(() => page.getByLabel("Id or key").fill("web-a"))
      yield* ui(() => page.getByLabel("Id or key").press("Enter"))
      yield* ui(() => page.waitForFunction((id) => {
        const rows = [...document.querySelectorAll("tbody tr[data-id]")]
        return rows.length === 1 && rows[0]!.getAttribute("data-id") === id
      }, a))
      yield* ui(() => page.getByLabel("Id or key").fill(b))
      yield* ui(() => page.getByLabel("Id or key").press("Enter"))
      yield* ui(() => page.waitForSelector(`tbody tr[data-id="${b}"]`))
      yield* ui(() => page.getByLabel("Id or key").fill(""))
      yield* ui(() => page.getByLabel("Created after").fill("2099-01-01T00:00:00"))
      yield* ui(() => page.getByLabel("Created after").press("Enter"))
      yield* ui(() => page.getByText("No deployment matches these filters.").waitFor())
      yield* ui(() => page.goto(`${page.url().split("#")[0]}${listOf("")}`))
      yield* ui(() => page.waitForSelector(`tr[data-id="${c}"]`))
      yield* screenshot(page, `${screenshotsDir}list.png`)
    }))

  it.effect("shows a new deployment and its status change live, without a reload", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const page = yield* open(listOf("&action=hold"))
      yield* ui(() => page.waitForSelector("#live[data-live='1']"))
      yield* ui(() => page.evaluate(() => { (window as unknown as { marker: number }).marker = 1 }))
      const id = yield* actions.start(Hold, { name: "live" }, { application })
      yield* ui(() => page.waitForSelector(`tr[data-id="${id}"][data-status="running"]`))
      yield* actions.stop(id)
      yield* ui(() => page.waitForSelector(`tr[data-id="${id}"][data-status="rolled_back"]`))
      const marker = yield* ui(() => page.evaluate(() => (window as unknown as { marker?: number }).marker))
      assert.strictEqual(marker, 1, "the page was not reloaded")
    }))

  it.effect("draws a rolled-back deployment's timeline: forward bars in job order, the failure point, rollbacks in reverse order", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      yield* Effect.exit(actions.execute(Chain, { n: 0 }, { application, key: "chain-1" }))
      const id = (yield* actions.list({ application, action: "chain", limit: 1 })).items[0]!.id
      const page = yield* open(`#/deployments/${id}`)
      yield* ui(() => page.waitForSelector(".bar.rollback"))
      const rows = yield* ui(() => page.locator(".tl-row").evaluateAll((elements) => elements.map((row) => {
        const box = (selector: string) => {
          const bar = row.querySelector(selector)
          if (bar === null) return null
          return {
            x: bar.getBoundingClientRect().x,
            start: bar.getAttribute("data-start"),
            order: bar.getAttribute("data-rollback-order")
          }
        }
        return {
          job: row.getAttribute("data-job"),
          forward: box(".bar.forward"),
          rollback: box(".bar.rollback"),
          failure: row.querySelector(".failure-mark") !== null
        }
      })))
      assert.deepStrictEqual(rows.map((row) => row.job), ["reserve-ip", "create-disk", "boot-vm", "health-check"])
      const forward = rows.map((row) => row.forward!)
      for (let i = 1; i < forward.length; i++) {
        assert.isTrue(Date.parse(forward[i]!.start!) >= Date.parse(forward[i - 1]!.start!), "forward starts in job order")
        assert.isAbove(forward[i]!.x, forward[i - 1]!.x, "forward bars drawn left to right in job order")
      }
      assert.deepStrictEqual(rows.map((row) => row.failure), [false, false, false, true], "the failure point")
      assert.deepStrictEqual(
        rows.map((row) => row.rollback?.order ?? null),
        ["3", "2", "1", null],
        "rollback order: boot-vm, create-disk, reserve-ip"
      )
      const rollbacks = [rows[2]!.rollback!, rows[1]!.rollback!, rows[0]!.rollback!]
      assert.isAbove(rollbacks[0]!.x, forward[3]!.x, "the rollbacks come after the failure")
      for (let i = 1; i < rollbacks.length; i++) assert.isAbove(rollbacks[i]!.x, rollbacks[i - 1]!.x)
      const order = yield* ui(() => page.locator('[data-outcome="rollback-order"]').textContent())
      assert.include(order ?? "", "boot-vm → create-disk → reserve-ip")
      const style = yield* ui(() =>
        page.locator(".bar.rollback").first().evaluate((bar) => getComputedStyle(bar).borderStyle)
      )
      assert.include(style, "dashed", "rollback bars are drawn distinctly")
      // Times in the viewer's zone, UTC on hover.
      const title = yield* ui(() => page.locator(".summary time").first().getAttribute("title"))
      assert.match(title ?? "", /^UTC: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/)
      yield* screenshot(page, `${screenshotsDir}deployment.png`)
    }))

  it.effect("draws a bar for each attempt of a retried job, and the failure point at the last attempt's", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const id = yield* actions.start(Quota, { n: 1 }, { application })
      yield* readUntil(id, (d) => d.status === "paused")
      yield* Effect.sleep("30 millis")
      yield* actions.retry(id, { input: { n: 2 } })
      yield* readUntil(id, (d) => d.status === "paused" && d.jobs[1]!.attempts === 2)
      const page = yield* open(`#/deployments/${id}`)
      const row = page.locator('.tl-row[data-job="check-quota"]')
      yield* ui(() => row.locator(".bar.forward").waitFor())
      const x = (selector: string) =>
        ui(() => row.locator(selector).evaluate((element) => element.getBoundingClientRect().x))
      const first = yield* x(".bar.attempt.stored[data-attempt='1']")
      const last = yield* x(".bar.forward[data-attempt='2']")
      const failure = yield* x(".failure-mark")
      assert.isBelow(first, last, "attempt 1 is drawn before the last attempt")
      assert.isAtLeast(failure, last, "the failure point is the last attempt's")
      const width = yield* ui(() => row.locator(".bar.attempt[data-attempt='1']").evaluate((element) => element.getBoundingClientRect().width))
      assert.isAbove(width, 0, "attempt 1 is a bar from its start to its end")
      const label = yield* ui(() => row.locator(".bar.attempt").getAttribute("aria-label"))
      assert.match(label ?? "", /attempt 1, .* → .*failed: Boom/)
    }))

  it.effect("stops a running deployment from its page after a confirmation that says what will happen, then restarts it", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const id = yield* actions.start(Hold, { name: "stop-me" }, { application })
      yield* readUntil(id, (d) => d.status === "running" && d.currentJob === 1)
      const page = yield* open(`#/deployments/${id}`)
      yield* ui(() => page.getByRole("button", { name: "Stop", exact: true }).click())
      const dialog = page.getByRole("dialog")
      yield* ui(() => dialog.waitFor())
      const text = yield* ui(() => dialog.locator(".consequence").textContent())
      assert.include(text ?? "", "roll back in reverse order: reserve")
      yield* ui(() => dialog.getByLabel(/Reason/).fill("from the browser test"))
      yield* ui(() => dialog.getByRole("button", { name: "Stop" }).click())
      const stored = yield* readUntil(id, (d) => d.status === "rolled_back")
      assert.strictEqual(stored.failure._tag === "Some" ? stored.failure.value.tag : "", "ExecutionStopped")
      yield* ui(() => page.waitForSelector("h1 .status[data-status='rolled_back']"))
      yield* ui(() => page.getByText("Stop: done.").waitFor())
      const history = page.locator('tr[data-operation="stop"]')
      yield* ui(() => history.waitFor())
      assert.include(yield* ui(() => history.locator("td").nth(5).textContent()), "from the browser test", "the reason, in the history")

      // Then a restart: the receipt links to the new deployment.
      yield* ui(() => page.getByRole("button", { name: "Restart", exact: true }).click())
      yield* ui(() => page.getByRole("dialog").getByRole("button", { name: "Restart" }).click())
      const link = page.locator(".notice a")
      yield* ui(() => link.waitFor())
      const restartedAs = (yield* ui(() => link.textContent())) ?? ""
      const restarted = yield* actions.get(restartedAs)
      assert.deepStrictEqual(restarted.restartOf, Option.some(id))
      yield* actions.stop(restartedAs)
    }))

  it.effect("retries a paused deployment with an input the server checks: its 400 is shown, a valid one runs on", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const id = yield* actions.start(Quota, { n: 1 }, { application })
      yield* readUntil(id, (d) => d.status === "paused")
      const page = yield* open(`#/deployments/${id}`)
      yield* ui(() => page.getByRole("button", { name: "Retry", exact: true }).click())
      const editor = page.getByLabel(/Input of check-quota/)
      const prefilled: unknown = JSON.parse((yield* ui(() => editor.inputValue())) || "null")
      assert.deepStrictEqual(prefilled, { n: 1 }, "prefilled with the job's input")
      yield* ui(() => editor.fill('{ "n": "ten" }'))
      yield* ui(() => page.getByRole("dialog").getByRole("button", { name: "Retry" }).click())
      const error = yield* ui(() => page.locator("#confirm-error:not([hidden])").textContent())
      assert.match(error ?? "", /^InputValidationError: invalid input for job check-quota at n: /)
      yield* screenshot(page, `${screenshotsDir}retry-dialog.png`)
      assert.strictEqual((yield* actions.get(id)).status, "paused", "an invalid input changes nothing")
      yield* ui(() => editor.fill('{ "n": 12 }'))
      yield* ui(() => page.getByRole("dialog").getByRole("button", { name: "Retry" }).click())
      const stored = yield* readUntil(id, (d) => d.status === "succeeded")
      assert.strictEqual(stored.jobs[1]!.attempts, 2)
      yield* ui(() => page.waitForSelector("h1 .status[data-status='succeeded']"))
      yield* ui(() => page.locator(".bar.attempt[data-attempt='1']").waitFor())
    }))

  it.effect("counts with a dry run what a bulk operation would apply to, then applies it after a confirmation", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const ids = [
        yield* actions.start(Quota, { n: 2 }, { application: bulkApplication }),
        yield* actions.start(Quota, { n: 3 }, { application: bulkApplication })
      ]
      for (const id of ids) yield* readUntil(id, (d) => d.status === "paused")
      const page = yield* open(`#/?application=${bulkApplication}&action=quota&status=paused`)
      yield* ui(() => page.getByText("Bulk operation on the filtered deployments").click())
      yield* ui(() => page.getByLabel("Operation").selectOption("rollback"))
      yield* ui(() => page.getByRole("button", { name: "Count matches (dry run)" }).click())
      const matched = yield* ui(() => page.locator("[data-bulk-matched]").getAttribute("data-bulk-matched"))
      assert.strictEqual(Number(matched), 2)
      for (const id of ids) assert.strictEqual((yield* actions.get(id)).status, "paused", "a dry run changes nothing")
      yield* ui(() => page.getByRole("button", { name: "Roll back 2 deployments…" }).click())
      yield* ui(() => page.getByRole("dialog").getByRole("button", { name: "Roll back 2" }).click())
      for (const id of ids) yield* readUntil(id, (d) => d.status === "rolled_back")
      yield* ui(() => page.getByText("Roll back: 2 matched; 2 done").waitFor())
    }))

  it.effect("gives keyboard access to the operations, and a label to every control", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const id = yield* actions.start(Quota, { n: 4 }, { application })
      yield* readUntil(id, (d) => d.status === "paused")
      const page = yield* open(`#/deployments/${id}`)
      yield* ui(() => page.waitForSelector("[data-operation='retry']:not([disabled])"))
      let focused: string | null = null
      for (let i = 0; i < 15 && focused !== "retry"; i++) {
        yield* ui(() => page.keyboard.press("Tab"))
        focused = yield* ui(() => page.evaluate(() => document.activeElement?.getAttribute("data-operation") ?? null))
      }
      assert.strictEqual(focused, "retry", "Tab reaches the Retry button")
      yield* ui(() => page.keyboard.press("Enter"))
      yield* ui(() => page.getByRole("dialog").waitFor())
      const inDialog = yield* ui(() => page.evaluate(() => document.activeElement?.closest("dialog") !== null))
      assert.isTrue(inDialog, "the focus moves into the dialog")
      yield* ui(() => page.keyboard.press("Escape"))
      yield* ui(() => page.getByRole("dialog").waitFor({ state: "hidden" }))
      assert.strictEqual((yield* actions.get(id)).status, "paused", "Escape cancels")

      const unlabelled = (p: Page) => p.evaluate(() =>
        [...document.querySelectorAll("input, select, textarea, button")].filter((control) => {
          if (control.closest("dialog:not([open])")) return false
          const labels = (control as HTMLInputElement).labels
          const text = control.tagName === "BUTTON" ? control.textContent?.trim() : ""
          const name = control.getAttribute("aria-label") ?? text
          return (labels === null || labels.length === 0) && (name === null || name === undefined || name === "")
        }).map((control) => control.outerHTML.slice(0, 120)))
      assert.deepStrictEqual(yield* ui(() => unlabelled(page)), [], "the deployment page")
      yield* ui(() => page.goto(`${page.url().split("#")[0]}${listOf("")}`))
      yield* ui(() => page.waitForSelector("tr[data-id]"))
      yield* ui(() => page.getByText("Bulk operation on the filtered deployments").click())
      assert.deepStrictEqual(yield* ui(() => unlabelled(page)), [], "the list page")
    }))
})

