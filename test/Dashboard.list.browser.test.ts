/**
 * The dashboard's deployments list in a real browser (system Chromium through `playwright-core`), against a real
 * server on 127.0.0.1 that serves the page and the operator API over PostgreSQL: pages of 25 and the pager, the
 * first page kept at 25 rows as new deployments arrive live, the counts kept current, and the filters (an id, a
 * creation time range, an application). Each test has an application of its own, so that its rows are its own.
 */
import { assert, layer } from "@effect/vitest"
import { Clock, DateTime, Effect, Layer } from "effect"
import { Actions } from "effect-actions"
import type { Page } from "playwright-core"
import { DashboardServed, open, ui } from "./support/dashboard.ts"
import { Provision, registerAll } from "./support/operator.ts"
import { PgLive, storeLayer, uniquePrefix } from "./support/postgres.ts"

/** The list's page size (`dashboard/list.js`). */
const pageSize = 25

const run = crypto.randomUUID().slice(0, 8)
const applications = {
  pages: `pages-${run}`,
  live: `live-${run}`,
  counts: `counts-${run}`,
  filters: `filters-${run}`,
  other: `other-${run}`
} as const

const TestLayer = DashboardServed.pipe(
  Layer.provideMerge(Layer.effectDiscard(Effect.forEach(Object.values(applications), registerAll, { discard: true }))),
  Layer.provideMerge(Actions.layer({ recovery: { enabled: false } })),
  Layer.provideMerge(storeLayer(uniquePrefix())),
  Layer.provideMerge(PgLive)
)

/** Runs `count` `provision` deployments to their end in `application`; their ids, newest first, as the API lists them. */
const provisionMany = (application: string, count: number) =>
  Effect.gen(function*() {
    const actions = yield* Actions.Actions
    yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) => actions.execute(Provision, { name: `${application}-${i}` }, { application }),
      { concurrency: 4, discard: true }
    )
    return yield* newestFirst(application)
  })

/** The ids of an application's deployments, newest first, as the API lists them. */
const newestFirst = (application: string) =>
  Effect.gen(function*() {
    const page = yield* (yield* Actions.Actions).list({ application, limit: 100 })
    return page.items.map((item) => item.id)
  })

/** The ids of the rows shown, top to bottom. */
const rowIds = (page: Page) =>
  ui(() =>
    page.locator("tbody tr[data-id]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-id") ?? ""))
  )

/** Waits until the rows shown are exactly `ids`, in order. */
const waitForRows = (page: Page, ids: ReadonlyArray<string>) =>
  ui(() =>
    page.waitForFunction((expected) => {
      const shown = [...document.querySelectorAll("tbody tr[data-id]")].map((row) => row.getAttribute("data-id"))
      return shown.length === expected.length && shown.every((id, i) => id === expected[i])
    }, [...ids])
  )

/** Each test's limit: the page's waits give up after 10 s each, so a slow machine still fits. */
const testTimeout = 30_000

layer(TestLayer, { excludeTestServices: true, timeout: "90 seconds" })("the deployments list in Chromium", (it) => {
  it.effect("pages by 25: Older → shows the next deployments, disjoint and in order, and ← Newer the first page again", () =>
    Effect.gen(function*() {
      const ids = yield* provisionMany(applications.pages, pageSize + 2)
      const page = yield* open(`#/?application=${applications.pages}`)
      yield* waitForRows(page, ids.slice(0, pageSize))
      const first = yield* rowIds(page)
      assert.strictEqual(yield* ui(() => page.getByRole("button", { name: "← Newer" }).isDisabled()), true)

      yield* ui(() => page.getByRole("button", { name: "Older →" }).click())
      yield* waitForRows(page, ids.slice(pageSize))
      const second = yield* rowIds(page)
      assert.deepStrictEqual(second.filter((id) => first.includes(id)), [], "page 2 shares no row with page 1")
      assert.deepStrictEqual([...first, ...second], ids, "page 2 continues where page 1 ends")
      assert.strictEqual(yield* ui(() => page.getByRole("button", { name: "Older →" }).isDisabled()), true, "no page 3")
      assert.include(yield* ui(() => page.locator(".pager").textContent()), "page 2")

      yield* ui(() => page.getByRole("button", { name: "← Newer" }).click())
      yield* waitForRows(page, first)
      assert.include(yield* ui(() => page.locator(".pager").textContent()), "page 1")
    }), testTimeout)

  it.effect("keeps the first page at 25 rows as new deployments arrive live, and the next page starts where it ends", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const before = yield* provisionMany(applications.live, pageSize + 1)
      const page = yield* open(`#/?application=${applications.live}`)
      yield* waitForRows(page, before.slice(0, pageSize))
      yield* ui(() => page.waitForSelector("#live[data-live='1']"))

      for (const name of ["live-new-1", "live-new-2"]) {
        yield* actions.execute(Provision, { name }, { application: applications.live })
      }
      const ids = yield* newestFirst(applications.live)
      // The two new rows on top, and the two oldest of the first page pushed off it: still 25 rows.
      yield* waitForRows(page, ids.slice(0, pageSize))

      // The rows pushed off are on the next page: none skipped, none shown twice.
      yield* ui(() => page.getByRole("button", { name: "Older →" }).click())
      yield* waitForRows(page, ids.slice(pageSize))
      assert.deepStrictEqual(yield* rowIds(page), [before[pageSize - 2], before[pageSize - 1], before[pageSize]])
    }), testTimeout)

  it.effect("reads the counts again when a new deployment appears in the event stream", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const page = yield* open(`#/?application=${applications.counts}`)
      const succeeded = page.locator('[data-count-status="succeeded"] .count-value')
      yield* ui(() => page.waitForSelector("#live[data-live='1']"))
      assert.strictEqual(yield* ui(() => succeeded.textContent()), "0")
      // It ends before the stream sees it: its one event is its first, with no previous status.
      const { deploymentId } = yield* actions.execute(Provision, { name: "counted" }, { application: applications.counts })
      yield* ui(() => page.waitForSelector(`tr[data-id="${deploymentId}"]`))
      yield* ui(() => page.waitForFunction(() =>
        document.querySelector('[data-count-status="succeeded"] .count-value')?.textContent === "1"
      ))
    }), testTimeout)

  it.effect("filters by id (one row), by creation time (the older kept, the newer dropped) and by application", () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const older = (yield* actions.execute(Provision, { name: "older" }, { application: applications.filters })).deploymentId
      // The boundary: the first whole second after `older` was created; `newer` is created after it.
      const boundary = Math.floor(DateTime.toEpochMillis((yield* actions.get(older)).createdAt) / 1000) * 1000 + 1000
      const now = yield* Clock.currentTimeMillis
      yield* Effect.sleep(`${Math.max(boundary - now, 0) + 20} millis`)
      const newer = (yield* actions.execute(Provision, { name: "newer" }, { application: applications.filters })).deploymentId
      const elsewhere = (yield* actions.execute(Provision, { name: "elsewhere" }, { application: applications.other })).deploymentId

      const page = yield* open(`#/?application=${applications.filters}`)
      yield* waitForRows(page, [newer, older])

      // An id: exactly its row.
      yield* ui(() => page.getByLabel("Id or key").fill(older))
      yield* ui(() => page.getByLabel("Id or key").press("Enter"))
      yield* waitForRows(page, [older])
      yield* ui(() => page.getByLabel("Id or key").fill(""))

      // Created before the boundary (the viewer's local time, to the second): `older` stays, `newer` goes.
      const local = yield* ui(() => page.evaluate((millis) => {
        const at = new Date(millis)
        const two = (n: number) => String(n).padStart(2, "0")
        return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`
      }, boundary))
      yield* ui(() => page.getByLabel("Created before").fill(local))
      yield* ui(() => page.getByLabel("Created before").press("Enter"))
      yield* waitForRows(page, [older])
      assert.include(page.url(), `before=${encodeURIComponent(local)}`)

      // Another application: only its deployment.
      yield* ui(() => page.getByLabel("Created before").fill(""))
      yield* ui(() => page.getByLabel("Application").fill(applications.other))
      yield* ui(() => page.getByLabel("Application").press("Enter"))
      yield* waitForRows(page, [elsewhere])
      assert.include(page.url(), `application=${applications.other}`)
    }), testTimeout)
})
