// @ts-check
/**
 * The page of one deployment: its summary and operations, the timeline, each job's input, output and data, the
 * state, the error log with its phases, and the operator history; refreshed live from the event stream.
 *
 * A refresh draws the page again from the fresh data; what the viewer opened, collapsed, expanded or showed in full
 * is kept (a `ViewState`), and the focus goes back to the element that had it (by its `data-focus` key).
 *
 * @since 0.3.0
 */
import * as Api from "./api.js"
import { actionBar, receiptText } from "./actions.js"
import { h, replace } from "./dom.js"
import { jsonView } from "./json.js"
import { setLive } from "./live.js"
import { statusBadge, time } from "./format.js"
import { timeline } from "./timeline.js"
import { focusedKey, rememberOpen, restoreFocus, viewState } from "./view-state.js"

/** @param {string} term @param {import("./dom.js").Child} value */
const item = (term, value) => [h("dt", {}, term), h("dd", {}, value)]

/** @param {import("./types.js").Deployment} deployment */
const summary = (deployment) =>
  h("dl", { class: "summary" },
    item("Application", deployment.application),
    item("Action", deployment.action),
    item("Key", deployment.key ?? h("span", { class: "muted" }, "none")),
    item("Created", time(deployment.createdAt)),
    item("Updated", time(deployment.updatedAt)),
    item("Owner", deployment.owner ?? h("span", { class: "muted" }, "none")),
    item("Resumes", String(deployment.resumes)),
    deployment.restartOf
      ? item("Restart of", h("a", { href: `#/deployments/${encodeURIComponent(deployment.restartOf)}`, class: "mono" }, deployment.restartOf))
      : null,
    deployment.stopRequested ? item("Stop", "requested") : null,
    deployment.request
      ? item("Pending request", `${deployment.request.operation} by ${deployment.request.by}, waiting for a process that has the action`)
      : null,
    deployment.parked ? item("Parked", `${deployment.parked.field}: ${deployment.parked.issue}`) : null)

/** @typedef {import("./view-state.js").ViewState} ViewState */

/** @param {import("./types.js").Deployment} deployment @param {ViewState} state */
const failureBox = (deployment, state) => {
  const failure = deployment.failure
  if (!failure) return null
  return h("section", { class: "failure", "aria-labelledby": "failure-title" },
    h("h2", { id: "failure-title" }, "✗ Failure"),
    h("p", {}, h("strong", {}, failure.tag), ` in ${failure.job} (job ${failure.jobIndex + 1}, phase ${failure.phase}): `, failure.message),
    failure.detail === undefined ? null : jsonView(failure.detail, "failure detail", state))
}

/**
 * @param {import("./types.js").Deployment} deployment
 * @param {ReadonlyArray<import("./types.js").JobDataEntry>} data
 * @param {ViewState} state
 */
const jobsSection = (deployment, data, state) =>
  h("section", { "aria-labelledby": "jobs-title" },
    h("h2", { id: "jobs-title" }, "Jobs"),
    deployment.jobs.map((job) => {
      const entries = data.filter((entry) => entry.job === job.name)
      return rememberOpen(state, `job ${job.index}`, false, h("details", { class: "job", "data-job": job.name },
        h("summary", { "data-focus": `job ${job.index}` }, `${job.index + 1}. ${job.name} `, statusBadge(job.status, "job"),
          h("span", { class: "muted small" }, ` ${job.attempts} attempt${job.attempts === 1 ? "" : "s"}`)),
        h("div", { class: "job-body" },
          h("dl", { class: "summary" },
            item("Started (last attempt)", time(job.startedAt)),
            item("Finished", time(job.finishedAt)),
            item("Rollback started", time(job.rollbackStartedAt)),
            item("Rollback finished", time(job.rollbackFinishedAt))),
          h("h3", {}, "Input"), jsonView(job.input, `input of ${job.name}`, state),
          h("h3", {}, "Output"), jsonView(job.output, `output of ${job.name}`, state),
          h("h3", {}, "Job data"),
          entries.length === 0
            ? h("p", { class: "muted" }, "none")
            : entries.map((entry) => h("div", { class: "data-entry" }, h("h4", { class: "mono" }, entry.key), jsonView(entry.value, `job data ${entry.key} of ${job.name}`, state))))))
    }))

/** @param {ReadonlyArray<import("./types.js").ErrorEntry>} entries @param {ViewState} state */
const errorLog = (entries, state) =>
  h("section", { "aria-labelledby": "errors-title" },
    h("h2", { id: "errors-title" }, `Error log (${entries.length})`),
    entries.length === 0
      ? h("p", { class: "muted" }, "No error was recorded.")
      : h("table", { class: "log", "aria-labelledby": "errors-title" },
        h("thead", {}, h("tr", {}, ["#", "Time", "Job", "Phase", "Error", "Message", "Detail"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, entries.map((entry) =>
          h("tr", { "data-phase": entry.phase },
            h("td", {}, String(entry.sequence)),
            h("td", {}, time(entry.at)),
            h("td", {}, entry.job ?? "—"),
            h("td", {}, h("span", { class: `phase phase-${entry.phase}` }, entry.phase.replace("_", " "))),
            h("td", { class: "mono" }, entry.tag),
            h("td", {}, entry.message),
            h("td", {}, entry.detail === undefined ? "—" : jsonView(entry.detail, `detail of error ${entry.sequence}`, state)))))))

/** @param {ReadonlyArray<import("./types.js").HistoryEntry>} entries */
const historyLog = (entries) =>
  h("section", { "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, `Operator history (${entries.length})`),
    entries.length === 0
      ? h("p", { class: "muted" }, "No operator acted on this deployment.")
      : h("table", { class: "log", "aria-labelledby": "history-title" },
        h("thead", {}, h("tr", {}, ["#", "Time", "Operation", "Outcome", "By", "Reason", "Job", "Message"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, entries.map((entry) =>
          h("tr", { "data-operation": entry.operation, "data-outcome": entry.outcome },
            h("td", {}, String(entry.sequence)),
            h("td", {}, time(entry.at)),
            h("td", {}, entry.operation.replace("_", " ")),
            h("td", {}, entry.outcome),
            h("td", { class: "mono" }, entry.by),
            h("td", {}, entry.reason ?? "—"),
            h("td", {}, entry.job ?? "—"),
            h("td", {}, entry.message ?? "—"))))))

/**
 * Renders the page of a deployment into `root`; returns a function that stops its live updates.
 *
 * @param {HTMLElement} root
 * @param {string} id
 */
export const renderDeployment = (root, id) => {
  const notice = h("p", { class: "notice", role: "status", "aria-live": "polite" })
  const content = h("div", { class: "deployment" })
  /** @type {EventSource | undefined} */
  let source = undefined
  let closed = false
  let timer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined)

  /** What the viewer opened, expanded and showed in full, kept from one drawing of the page to the next. */
  const state = viewState()

  const refresh = async () => {
    try {
      const [deployment, errors, data] = await Promise.all([Api.get(id), Api.errors(id), Api.data(id)])
      if (closed) return
      // The page is drawn again from the fresh data; the focus goes back to the element that had it.
      const focused = focusedKey(content)
      replace(content,
        h("h1", {}, "Deployment ", h("span", { class: "mono" }, deployment.id), " ", statusBadge(deployment.status)),
        actionBar(deployment, (receipt) => {
          replace(notice, receiptText(receipt), receipt.restartedAs === undefined ? null : [
            h("a", { href: `#/deployments/${encodeURIComponent(receipt.restartedAs)}`, class: "mono" }, receipt.restartedAs), "."
          ])
          void refresh()
        }),
        notice,
        summary(deployment),
        failureBox(deployment, state),
        timeline(deployment, errors.items, Date.now()),
        jobsSection(deployment, data.items, state),
        h("section", { "aria-labelledby": "state-title" },
          h("h2", { id: "state-title" }, "State"), jsonView(deployment.state, "state", state),
          h("h2", {}, "Output"), jsonView(deployment.output, "deployment output", state)),
        errorLog(errors.items, state),
        historyLog(deployment.history))
      restoreFocus(content, focused)
      if (source === undefined) follow(deployment)
    } catch (error) {
      if (error instanceof Api.ApiError && error.status === 404) {
        replace(content, h("h1", {}, "Deployment not found"), h("p", {}, `No deployment has the id ${id}.`), h("p", {}, h("a", { href: "#/" }, "Back to the list")))
      } else {
        notice.textContent = `Could not load the deployment: ${error instanceof Error ? error.message : error}`
      }
    }
  }

  /** @param {import("./types.js").Deployment} deployment */
  const follow = (deployment) => {
    source = Api.events({ application: deployment.application, action: deployment.action })
    source.addEventListener("open", () => setLive(true))
    source.addEventListener("error", () => setLive(false))
    /** @param {Event} event */
    const onEvent = (event) => {
      const data = JSON.parse(/** @type {MessageEvent} */ (event).data)
      const about = data.deployment?.id ?? data.deploymentId
      if (about !== id) return
      if (data._tag === "DeploymentChanged" && data.previousStatus === undefined) return
      if (timer !== undefined) return
      timer = setTimeout(() => { timer = undefined; void refresh() }, 200)
    }
    source.addEventListener("deployment", onEvent)
    source.addEventListener("job", onEvent)
  }

  replace(root, h("p", {}, h("a", { href: "#/" }, "← All deployments")), content)
  void refresh()
  return () => {
    closed = true
    source?.close()
  }
}
