// @ts-check
/**
 * The deployments list: counts per status, filters (status, application, action, id or key, time range) kept in the
 * address, cursor pages, live updates from the event stream, and bulk operations on the filtered deployments after
 * a dry run.
 *
 * @since 0.3.0
 */
import * as Api from "./api.js"
import { confirmDialog, labels } from "./actions.js"
import { h, replace } from "./dom.js"
import { deploymentStatuses, shortId, statusBadge, time } from "./format.js"
import { setLive } from "./live.js"

const pageSize = 25
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * @typedef {{ status: string, application: string, action: string, search: string, after: string, before: string }} Filters
 */

/** @param {URLSearchParams} params @returns {Filters} */
const filtersFrom = (params) => ({
  status: params.get("status") ?? "",
  application: params.get("application") ?? "",
  action: params.get("action") ?? "",
  search: params.get("q") ?? "",
  after: params.get("after") ?? "",
  before: params.get("before") ?? ""
})

/** @param {Filters} filters */
const hashOf = (filters) => {
  const params = new URLSearchParams()
  if (filters.status) params.set("status", filters.status)
  if (filters.application) params.set("application", filters.application)
  if (filters.action) params.set("action", filters.action)
  if (filters.search) params.set("q", filters.search)
  if (filters.after) params.set("after", filters.after)
  if (filters.before) params.set("before", filters.before)
  const text = params.toString()
  return `#/${text === "" ? "" : `?${text}`}`
}

/** A `datetime-local` value (the viewer's zone) as ISO UTC. @param {string} local */
const isoOf = (local) => local === "" ? undefined : new Date(local).toISOString()

/** Where a deployment is, why it failed, what is pending, joined by dots. @param {import("./types.js").Summary} deployment */
const progress = (deployment) => {
  const parts = []
  if (["running", "paused", "rolling_back"].includes(deployment.status)) parts.push(`at job ${deployment.currentJob + 1}`)
  if (deployment.failure) parts.push(`${deployment.failure.tag} in ${deployment.failure.job}`)
  if (deployment.request) parts.push(`${deployment.request.operation} requested`)
  return parts.join(" · ")
}

/** @param {import("./types.js").Summary} deployment */
const row = (deployment) =>
  h("tr", { "data-id": deployment.id, "data-status": deployment.status },
    h("td", {}, statusBadge(deployment.status)),
    h("td", {}, h("a", { href: `#/deployments/${encodeURIComponent(deployment.id)}`, title: deployment.id, class: "mono" }, shortId(deployment.id))),
    h("td", {}, deployment.application),
    h("td", {}, deployment.action),
    h("td", { class: "mono" }, deployment.key ?? h("span", { class: "muted" }, "—")),
    h("td", {}, progress(deployment)),
    h("td", {}, time(deployment.createdAt)),
    h("td", {}, time(deployment.updatedAt)))

/**
 * Renders the list into `root`; returns a function that stops its live updates.
 *
 * @param {HTMLElement} root
 * @param {URLSearchParams} params
 */
export const renderList = (root, params) => {
  const filters = filtersFrom(params)
  /** @type {Array<string | undefined>} */
  const cursors = [undefined]
  let page = 0
  /**
   * Whether live inserts pushed rows off the first page since it was read: the next page's cursor (the position of
   * the first page's last row as read) would skip them, so it is read again before the next page is.
   */
  let nextCursorStale = false
  /** @type {Map<string, import("./types.js").Summary>} */
  const shown = new Map()

  const countsBox = h("section", { class: "counts", "aria-label": "Deployments per status" })
  const tbody = h("tbody")
  const table = h("table", { class: "deployments", "aria-label": "Deployments, newest first" },
    h("thead", {}, h("tr", {}, ["Status", "Id", "Application", "Action", "Key", "Progress", "Created", "Updated"].map((c) => h("th", { scope: "col" }, c)))),
    tbody)
  const message = h("p", { class: "muted", role: "status" })
  const newer = /** @type {HTMLButtonElement} */ (h("button", { type: "button", onclick: () => load(page - 1) }, "← Newer"))
  const older = /** @type {HTMLButtonElement} */ (h("button", { type: "button", onclick: () => load(page + 1) }, "Older →"))
  const pageLabel = h("span", { class: "muted" })

  /** @param {string} id @param {string} text @param {HTMLElement} control */
  const field = (id, text, control) => h("div", { class: "field" }, h("label", { for: id }, text), control)
  const input = (/** @type {string} */ id, /** @type {string} */ value, /** @type {string} */ type = "text") =>
    /** @type {HTMLInputElement} */ (h("input", { id, name: id, type, value, autocomplete: "off" }))
  const status = /** @type {HTMLSelectElement} */ (h("select", { id: "f-status", name: "status" },
    h("option", { value: "" }, "any status"),
    Object.entries(deploymentStatuses).map(([value, s]) => h("option", { value, selected: value === filters.status }, `${s.icon} ${s.label}`))))
  const application = input("f-application", filters.application)
  const action = input("f-action", filters.action)
  const search = input("f-search", filters.search, "search")
  search.placeholder = "a deployment id or key"
  const after = input("f-after", filters.after, "datetime-local")
  const before = input("f-before", filters.before, "datetime-local")
  after.step = "1"
  before.step = "1"
  const apply = () => {
    location.hash = hashOf({
      status: status.value, application: application.value.trim(), action: action.value.trim(),
      search: search.value.trim(), after: after.value, before: before.value
    })
  }
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter deployments", onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); apply() } },
    field("f-status", "Status", status),
    field("f-application", "Application", application),
    field("f-action", "Action", action),
    field("f-search", "Id or key", search),
    field("f-after", "Created after", after),
    field("f-before", "Created before", before),
    h("div", { class: "field buttons" },
      h("button", { type: "submit", class: "primary" }, "Apply filters"),
      h("button", { type: "button", onclick: () => { location.hash = "#/" } }, "Clear")))
  for (const control of [status, after, before]) control.addEventListener("change", apply)

  const listQuery = () => ({
    status: filters.status || undefined,
    application: filters.application || undefined,
    action: filters.action || undefined,
    key: filters.search && !uuid.test(filters.search) ? filters.search : undefined,
    createdAfter: isoOf(filters.after),
    createdBefore: isoOf(filters.before)
  })

  const refreshCounts = async () => {
    try {
      const result = await Api.counts({ application: filters.application || undefined, action: filters.action || undefined })
      replace(countsBox, Object.entries(deploymentStatuses).map(([value, s]) => {
        const count = result.counts[value] ?? 0
        return h("button", {
          type: "button",
          class: `count status-${value}`,
          "data-count-status": value,
          "aria-pressed": String(filters.status === value),
          "aria-label": `${s.label}: ${count >= result.atMost ? `at least ${count}` : count}; show only these`,
          onclick: () => { location.hash = hashOf({ ...filters, status: filters.status === value ? "" : value }) }
        }, h("span", { class: "status-icon", "aria-hidden": "true" }, s.icon), " ", s.label, " ",
          h("strong", { class: "count-value" }, count >= result.atMost ? `${count}+` : String(count)))
      }))
    } catch (error) {
      replace(countsBox, h("p", { class: "error" }, `Counts unavailable: ${error instanceof Error ? error.message : error}`))
    }
  }

  /** @param {number} target */
  const load = async (target) => {
    message.textContent = "Loading…"
    try {
      /** @type {ReadonlyArray<import("./types.js").Summary>} */
      let items
      /** @type {string | undefined} */
      let next = undefined
      if (filters.search && uuid.test(filters.search)) {
        items = await Api.get(filters.search).then((d) => [d], (e) => e instanceof Api.ApiError && e.status === 404 ? [] : Promise.reject(e))
      } else {
        if (target === 1 && nextCursorStale) {
          cursors[1] = (await Api.list({ ...listQuery(), limit: String(pageSize) })).next
          nextCursorStale = false
        }
        const result = await Api.list({ ...listQuery(), limit: String(pageSize), cursor: cursors[target] })
        items = result.items
        next = result.next
      }
      page = target
      cursors[page + 1] = next
      if (page === 0) nextCursorStale = false
      shown.clear()
      replace(tbody, items.map((d) => { shown.set(d.id, d); return row(d) }))
      message.textContent = items.length === 0 ? "No deployment matches these filters." : ""
      newer.disabled = page === 0
      older.disabled = next === undefined
      pageLabel.textContent = `page ${page + 1}`
    } catch (error) {
      message.textContent = `Could not load the deployments: ${error instanceof Error ? error.message : error}`
    }
  }

  /** Whether a deployment from the event stream belongs in the current view. @param {import("./types.js").Summary} d */
  const matches = (d) => {
    if (filters.status && d.status !== filters.status) return false
    if (filters.search && d.id !== filters.search && d.key !== filters.search) return false
    const created = Date.parse(d.createdAt)
    if (filters.after && created < Date.parse(/** @type {string} */ (isoOf(filters.after)))) return false
    if (filters.before && created >= Date.parse(/** @type {string} */ (isoOf(filters.before)))) return false
    return true
  }

  let countsTimer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined)
  const scheduleCounts = () => {
    if (countsTimer !== undefined) return
    countsTimer = setTimeout(() => { countsTimer = undefined; void refreshCounts() }, 300)
  }

  /** @param {import("./types.js").Summary} d */
  const upsert = (d) => {
    const existing = tbody.querySelector(`tr[data-id="${CSS.escape(d.id)}"]`)
    if (existing) {
      if (shown.get(d.id)?.updatedAt === d.updatedAt) return
      const fresh = row(d)
      fresh.classList.add("changed")
      existing.replaceWith(fresh)
      shown.set(d.id, d)
      return
    }
    if (page !== 0 || !matches(d)) return
    const rows = [...shown.values()]
    const oldest = rows.length === 0 ? -Infinity : Math.min(...rows.map((r) => Date.parse(r.createdAt)))
    if (rows.length >= pageSize && Date.parse(d.createdAt) < oldest) return
    const fresh = row(d)
    fresh.classList.add("changed")
    const after = [...tbody.querySelectorAll("tr")].find((tr) => Date.parse(shown.get(tr.getAttribute("data-id") ?? "")?.createdAt ?? "") < Date.parse(d.createdAt))
    if (after) after.before(fresh)
    else tbody.append(fresh)
    shown.set(d.id, d)
    message.textContent = ""
    // The page keeps its size: the oldest rows go (to the next page, whose cursor is read again).
    const rowsNow = [...tbody.querySelectorAll("tr[data-id]")]
    for (const extra of rowsNow.slice(pageSize)) {
      shown.delete(extra.getAttribute("data-id") ?? "")
      extra.remove()
      nextCursorStale = true
      older.disabled = false
    }
  }

  const source = Api.events({ status: filters.status || undefined, application: filters.application || undefined, action: filters.action || undefined })
  source.addEventListener("open", () => setLive(true))
  source.addEventListener("error", () => setLive(false))
  source.addEventListener("deployment", (event) => {
    const data = JSON.parse(/** @type {MessageEvent} */ (event).data)
    upsert(data.deployment)
    // A new deployment (no previous status) or a status change moves the counts.
    if (data.previousStatus !== data.deployment.status) scheduleCounts()
  })
  source.addEventListener("removed", (event) => {
    const data = JSON.parse(/** @type {MessageEvent} */ (event).data)
    tbody.querySelector(`tr[data-id="${CSS.escape(data.deploymentId)}"]`)?.remove()
    scheduleCounts()
  })

  replace(root,
    h("h1", {}, "Deployments"),
    countsBox,
    form,
    bulkPanel(filters),
    table,
    message,
    h("nav", { class: "pager", "aria-label": "Pages" }, newer, " ", pageLabel, " ", older))
  void refreshCounts()
  void load(0)
  return () => source.close()
}

/**
 * The bulk operation on the filtered deployments: a dry run says how many match, then a confirmation applies it.
 *
 * @param {Filters} filters
 */
const bulkPanel = (filters) => {
  const operation = /** @type {HTMLSelectElement} */ (h("select", { id: "bulk-operation" },
    /** @type {const} */ (["stop", "retry", "rollback", "retry_rollback"]).map((op) => h("option", { value: op }, labels[op]))))
  const result = h("p", { id: "bulk-result", role: "status", "aria-live": "polite" })
  const apply = /** @type {HTMLButtonElement} */ (h("button", { type: "button", id: "bulk-apply", class: "danger", disabled: true }, "Apply…"))
  const bulkFilter = () => {
    /** @type {Record<string, unknown>} */
    const filter = {}
    if (filters.status) filter.statuses = [filters.status]
    if (filters.application) filter.application = filters.application
    if (filters.action) filter.action = filters.action
    if (filters.after) filter.createdAfter = isoOf(filters.after)
    if (filters.before) filter.createdBefore = isoOf(filters.before)
    return filter
  }
  /** @type {number} */
  let matched = 0
  const preview = async () => {
    apply.disabled = true
    result.textContent = "Counting…"
    try {
      const dry = await Api.bulk({ operation: operation.value, filter: bulkFilter(), dryRun: true })
      matched = dry.matched
      result.replaceChildren(
        h("strong", { "data-bulk-matched": dry.matched }, `${dry.matched} deployment${dry.matched === 1 ? "" : "s"}`),
        ` match${dry.matched === 1 ? "es" : ""} (dry run: nothing was changed)${filters.status ? "" : "; with no status filter, only those in the statuses the operation applies to"}.`)
      apply.disabled = dry.matched === 0
      apply.textContent = `${labels[/** @type {"stop"} */ (operation.value)]} ${dry.matched} deployment${dry.matched === 1 ? "" : "s"}…`
    } catch (error) {
      result.textContent = error instanceof Error ? error.message : String(error)
    }
  }
  apply.addEventListener("click", async () => {
    const op = /** @type {"stop"} */ (operation.value)
    const done = await confirmDialog({
      title: `${labels[op]} ${matched} deployment${matched === 1 ? "" : "s"}?`,
      content: [h("p", {}, `${labels[op]} applies to every deployment that matches the filters now (the dry run found ${matched}). A deployment it no longer applies to is reported as refused, not failed on.`)],
      confirm: `${labels[op]} ${matched}`,
      run: () => Api.bulk({ operation: op, filter: bulkFilter() })
    })
    if (done === undefined) return
    const tally = { done: 0, requested: 0, refused: 0 }
    for (const item of done.items) tally[/** @type {"done"} */ (item.outcome)]++
    result.textContent = `${labels[op]}: ${done.matched} matched; ${tally.done} done, ${tally.requested} requested, ${tally.refused} refused.`
    apply.disabled = true
  })
  operation.addEventListener("change", () => { apply.disabled = true; result.textContent = "" })
  const disabled = filters.search !== ""
  return h("details", { class: "bulk" },
    h("summary", {}, "Bulk operation on the filtered deployments"),
    disabled
      ? h("p", { class: "muted" }, "Bulk operations filter by status, application, action and time range only: clear the id or key search first.")
      : h("div", { class: "bulk-controls" },
        h("label", { for: "bulk-operation" }, "Operation"), operation,
        h("button", { type: "button", id: "bulk-preview", onclick: preview }, "Count matches (dry run)"),
        apply, result))
}
