/**
 * A real browser for the dashboard's tests and its screenshots: system Chromium driven by `playwright-core`,
 * one page of a fixed size, time zone and locale, so that screenshots are comparable from run to run.
 */
import { Effect } from "effect"
import { type Browser, chromium, type Page } from "playwright-core"
import { mkdirSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** Where Chromium is: `/usr/bin/chromium` (Debian's package), or `CHROMIUM_PATH`. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

/** The time zone the pages are shown in: not UTC, so that the viewer's zone is visibly used. */
export const timeZone = "Europe/Paris"

/** The browser, closed with the scope. */
export const browser = Effect.acquireRelease(
  Effect.promise(() => chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] })),
  (browser) => Effect.promise(() => browser.close())
)

/** A new page of 1360 × 900 in `timeZone`, closed with the scope. */
export const page = (from: Browser) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      from.newPage({ viewport: { width: 1360, height: 900 }, timezoneId: timeZone, locale: "en-GB", deviceScaleFactor: 1 })
    ),
    (page) => Effect.promise(() => page.close())
  )

/** The gitignored folder of the tests' screenshots. */
export const screenshotsDir = fileURLToPath(new URL("../../test-screenshots/", import.meta.url))

/** Writes a screenshot of the whole page to `path` (its folder is created), once the page's fonts are ready. */
export const screenshot = (page: Page, path: string) =>
  Effect.promise(async () => {
    mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true })
    await page.evaluate("document.fonts.ready")
    await page.screenshot({ path, fullPage: true })
  })
