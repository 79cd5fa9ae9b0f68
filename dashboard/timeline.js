// @ts-check
/**
 * A deployment's timeline (a Gantt chart): one row per job, a bar for each of its attempts forward (the earlier ones
 * dashed), the bar of its rollback (in its own lane, hatched), the failure point, and the rollback order; then what
 * ran forward, what was undone, and what is still left undone.
 *
 * A job's earlier attempts are stored with their times (`earlierAttempts`): one cut short by a crash has no end, and
 * its bar ends where the next attempt starts. A deployment recorded before those times were kept shows an earlier
 * attempt as a narrow marker at the time the error log recorded its failure, or at the last attempt's start.
 *
 * Each bar is focusable; its label (and title) says its job, attempt, start and end in the viewer's time zone and in
 * UTC, and its duration. It carries a `data-focus` key, so that the deployment page gives it the focus back when it is
 * drawn again.
 *
 * @since 0.3.0
 */
import { h } from "./dom.js"
import { duration, instant, jobStatuses, period, statusBadge, time, utc } from "./format.js"

const forwardPhases = new Set(["input", "pre_hook", "execute", "post_hook", "output"])

/** @param {number} millis @param {number} span */
const clock = (millis, span) => new Date(millis).toLocaleTimeString(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit", ...(span < 60_000 ? { fractionalSecondDigits: /** @type {1} */ (span < 10_000 ? 2 : 1) } : {})
})

/**
 * What happened to each job, in words and order: ran forward, undone (in rollback order), rollback failed, left
 * undone.
 *
 * @param {import("./types.js").Deployment} deployment
 */
export const outcome = (deployment) => {
  const jobs = deployment.jobs
  const forward = jobs.filter((job) => job.startedAt !== undefined)
  const rolledBack = jobs.filter((job) => job.rollbackStartedAt !== undefined)
    .sort((a, b) => Date.parse(a.rollbackStartedAt ?? "") - Date.parse(b.rollbackStartedAt ?? ""))
  const undoing = ["rolling_back", "rollback_failed", "rolled_back"].includes(deployment.status)
  const leftUndone = undoing ? jobs.filter((job) => job.status === "succeeded" || job.status === "rollback_failed") : []
  return { forward, rolledBack, leftUndone, notRun: jobs.filter((job) => job.status === "pending"), undoing }
}

/**
 * The timeline of a deployment.
 *
 * @param {import("./types.js").Deployment} deployment
 * @param {ReadonlyArray<import("./types.js").ErrorEntry>} errorLog
 * @param {number} now
 */
export const timeline = (deployment, errorLog, now) => {
  const jobs = deployment.jobs
  const active = ["running", "rolling_back"].includes(deployment.status)
  /** @type {Array<number>} */
  const instants = [Date.parse(deployment.createdAt)]
  for (const job of jobs) {
    for (const at of [job.startedAt, job.finishedAt, job.rollbackStartedAt, job.rollbackFinishedAt]) {
      if (at !== undefined) instants.push(Date.parse(at))
    }
    for (const attempt of job.earlierAttempts ?? []) {
      instants.push(Date.parse(attempt.startedAt))
      if (attempt.finishedAt !== undefined) instants.push(Date.parse(attempt.finishedAt))
    }
  }
  for (const entry of errorLog) instants.push(Date.parse(entry.at))
  if (active) instants.push(now)
  const start = Math.min(...instants)
  const end = Math.max(...instants, start + 1)
  const span = end - start
  /** @param {number} at */
  const x = (at) => ((at - start) / span) * 100
  /** @param {number} from @param {number} to */
  const place = (from, to) => `left:${x(from).toFixed(3)}%;width:${Math.max(x(to) - x(from), 0).toFixed(3)}%`
  /** Bars that end near the right edge have their text on their left. @param {number} to */
  const side = (to) => x(to) > 78 ? " text-left" : ""

  const { rolledBack } = outcome(deployment)
  const rollbackOrder = new Map(rolledBack.map((job, index) => [job.name, index + 1]))
  const failure = deployment.failure

  const rows = jobs.map((job) => {
    const bars = []
    const failures = errorLog
      .filter((entry) => entry.job === job.name && forwardPhases.has(entry.phase))
      .map((entry) => ({ ...entry, millis: Date.parse(entry.at) }))
    const lastStart = job.startedAt === undefined ? undefined : Date.parse(job.startedAt)
    const stored = job.earlierAttempts ?? []
    stored.forEach((attempt, position) => {
      const from = Date.parse(attempt.startedAt)
      const next = stored[position + 1]?.startedAt ?? job.startedAt
      const cut = attempt.finishedAt === undefined
      const to = cut ? (next === undefined ? from : Date.parse(next)) : Date.parse(attempt.finishedAt ?? "")
      const failedAt = failures.find((entry) => entry.millis >= from && entry.millis <= to)
      const text = `${job.name}: attempt ${attempt.attempt}, ${period(from, cut ? "cut short (its process stopped)" : to)} (${duration(to - from)})${failedAt === undefined ? "" : `, failed: ${failedAt.tag}: ${failedAt.message}`}`
      bars.push(h("div", {
        class: `bar attempt stored${cut ? " unknown" : ""}${side(to)}`,
        style: place(from, to),
        "data-kind": "attempt",
        "data-attempt": attempt.attempt,
        "data-start": attempt.startedAt,
        "data-focus": `bar ${job.index} attempt ${attempt.attempt}`,
        tabindex: "0",
        role: "img",
        "aria-label": text,
        title: text
      }, h("span", { class: "bar-text" }, `#${attempt.attempt}`)))
    })
    if (lastStart !== undefined) {
      const earlier = failures.filter((entry) => entry.millis < lastStart)
      // markers only for attempts whose times were not stored (deployments recorded before they were)
      for (let attempt = stored.length + 1; attempt < job.attempts; attempt++) {
        const known = earlier[attempt - 1]
        const at = known?.millis ?? lastStart
        const text = known === undefined
          ? `${job.name}: attempt ${attempt}, its times were not recorded (only the last attempt's are)`
          : `${job.name}: attempt ${attempt} failed at ${instant(at)}: ${known.tag}: ${known.message} (its start was not recorded)`
        bars.push(h("div", {
          class: `bar attempt${known === undefined ? " unknown" : ""}`,
          style: `left:${x(at).toFixed(3)}%`,
          "data-kind": "attempt",
          "data-attempt": attempt,
          "data-focus": `bar ${job.index} attempt ${attempt}`,
          tabindex: "0",
          role: "img",
          "aria-label": text,
          title: text
        }, h("span", { class: "bar-text" }, `#${attempt}`)))
      }
      const finished = job.finishedAt === undefined ? (job.status === "running" ? now : lastStart) : Date.parse(job.finishedAt)
      const failed = job.status === "failed" || (failure?.jobIndex === job.index && failure.phase !== "rollback")
      const text = `${job.name}: attempt ${job.attempts}, ${period(lastStart, job.finishedAt === undefined ? "still running" : finished)} (${duration(finished - lastStart)})${failed ? ", failed" : ""}`
      bars.push(h("div", {
        class: `bar forward${failed ? " failed" : ""}${job.finishedAt === undefined ? " open" : ""}${side(finished)}`,
        style: place(lastStart, finished),
        "data-kind": "forward",
        "data-attempt": job.attempts,
        "data-start": job.startedAt,
        "data-focus": `bar ${job.index} forward`,
        tabindex: "0",
        role: "img",
        "aria-label": text,
        title: text
      }, h("span", { class: "bar-text" }, `${job.attempts > 1 ? `attempt ${job.attempts} · ` : ""}${duration(finished - lastStart)}`)))
    }
    if (job.rollbackStartedAt !== undefined) {
      const from = Date.parse(job.rollbackStartedAt)
      const to = job.rollbackFinishedAt === undefined ? (active ? now : from) : Date.parse(job.rollbackFinishedAt)
      const order = rollbackOrder.get(job.name)
      const broken = job.status === "rollback_failed"
      const text = `${job.name}: rollback ${order} of ${rolledBack.length}, ${period(from, job.rollbackFinishedAt === undefined ? "still running" : to)} (${duration(to - from)})${broken ? ", failed" : ""}`
      bars.push(h("div", {
        class: `bar rollback${broken ? " failed" : ""}${job.rollbackFinishedAt === undefined ? " open" : ""}${side(to)}`,
        style: place(from, to),
        "data-kind": "rollback",
        "data-rollback-order": order,
        "data-start": job.rollbackStartedAt,
        "data-focus": `bar ${job.index} rollback`,
        tabindex: "0",
        role: "img",
        "aria-label": text,
        title: text
      }, h("span", { class: "bar-text" }, `↩ ${order}${broken ? " ⚠ failed" : ""} · ${duration(to - from)}`)))
    }
    if (failure !== undefined && failure.jobIndex === job.index) {
      // The last matching entry: earlier attempts of the job may have failed the same way.
      const entry = errorLog.findLast((e) => e.job === job.name && e.phase === failure.phase && e.tag === failure.tag)
      const at = entry !== undefined ? Date.parse(entry.at) : job.finishedAt !== undefined ? Date.parse(job.finishedAt) : undefined
      if (at !== undefined) {
        const text = `Failure point: ${job.name} failed in ${failure.phase} with ${failure.tag} at ${instant(at)}: ${failure.message}`
        bars.push(h("div", {
          class: `failure-mark${side(at)}`,
          style: `left:${x(at).toFixed(3)}%`,
          "data-kind": "failure",
          "data-focus": `bar ${job.index} failure`,
          tabindex: "0",
          role: "img",
          "aria-label": text,
          title: text
        }, h("span", { class: "failure-text" }, `✗ ${failure.tag}`)))
      }
    }
    return h("li", { class: "tl-row", "data-job": job.name, "data-index": job.index },
      h("div", { class: "tl-label" },
        h("span", { class: "tl-index" }, `${job.index + 1}.`), " ",
        h("span", { class: "tl-name" }, job.name), " ",
        statusBadge(job.status, "job"),
        job.attempts > 1 ? h("span", { class: "muted small" }, ` ${job.attempts} attempts`) : null),
      h("div", { class: "tl-track" }, h("div", { class: "lane lane-forward" }), h("div", { class: "lane lane-rollback" }), bars))
  })

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    h("span", { class: "tick", style: `left:${(f * 100).toFixed(1)}%`, title: utc(start + f * span) }, clock(start + f * span, span)))

  return h("section", { class: "timeline", "aria-labelledby": "timeline-title" },
    h("h2", { id: "timeline-title" }, "Timeline"),
    h("p", { class: "legend" },
      h("span", { class: "legend-item" }, h("span", { class: "swatch forward" }), " forward (last attempt)"),
      h("span", { class: "legend-item" }, h("span", { class: "swatch attempt" }), " earlier attempt (#n)"),
      h("span", { class: "legend-item" }, h("span", { class: "swatch rollback" }), " rollback (↩ order)"),
      h("span", { class: "legend-item" }, h("span", { class: "swatch failure" }), " failure point"),
      h("span", { class: "muted" }, ` span ${duration(span)}, from `, time(new Date(start).toISOString()))),
    h("div", { class: "tl-axis", "aria-hidden": "true" }, h("div", { class: "tl-label" }), h("div", { class: "tl-ticks" }, ticks)),
    h("ol", { class: "tl-rows" }, rows),
    summary(deployment))
}

/** @param {import("./types.js").Deployment} deployment */
const summary = (deployment) => {
  const { forward, rolledBack, leftUndone, notRun, undoing } = outcome(deployment)
  /** @param {ReadonlyArray<import("./types.js").JobRun>} list */
  const names = (list) => list.length === 0 ? h("span", { class: "muted" }, "none") : list.map((job, i) => [i > 0 ? " → " : "", h("span", { class: "job-ref", "data-job": job.name }, job.name)])
  return h("dl", { class: "outcome" },
    h("dt", {}, "Ran forward, in order"), h("dd", { "data-outcome": "forward" }, names(forward)),
    h("dt", {}, "Rollback order"), h("dd", { "data-outcome": "rollback-order" }, names(rolledBack),
      rolledBack.some((job) => job.status === "rollback_failed")
        ? h("span", { class: "status status-rollback_failed" }, ` (${jobStatuses.rollback_failed?.icon} ${rolledBack.filter((j) => j.status === "rollback_failed").map((j) => j.name).join(", ")} failed)`)
        : null),
    undoing ? [h("dt", {}, "Still left undone"), h("dd", { "data-outcome": "left-undone" }, names(leftUndone))] : null,
    notRun.length > 0 ? [h("dt", {}, "Not reached"), h("dd", { "data-outcome": "not-run" }, names(notRun))] : null)
}
