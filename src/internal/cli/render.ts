/**
 * The CLI's human output: aligned tables, key-value blocks, and colours (only when writing to a terminal, and
 * never when `NO_COLOR` is set).
 *
 * @internal
 */
import { DateTime, Option } from "effect"
import type { BulkResult, OperationReceipt } from "../../Actions.ts"
import type { Deployment, DeploymentStatus, ErrorEntry, HistoryEntry, JobStatus, OperationRequest } from "../../Deployment.ts"
import type { Waited } from "./wait.ts"

/** Colours, or none. */
export interface Style {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly status: (status: DeploymentStatus | JobStatus) => string
}

const sgr = (code: string) => (text: string) => `\u001b[${code}m${text}\u001b[0m`

const colourOf: Record<DeploymentStatus | JobStatus, (text: string) => string> = {
  running: sgr("36"),
  succeeded: sgr("32"),
  rolling_back: sgr("35"),
  rolled_back: sgr("33"),
  rollback_failed: sgr("31;1"),
  paused: sgr("33;1"),
  failed: sgr("31"),
  pending: sgr("2")
}

const plain: Style = { bold: (t) => t, dim: (t) => t, status: (s) => s }
const coloured: Style = { bold: sgr("1"), dim: sgr("2"), status: (s) => colourOf[s](s) }

/** Colours when stdout is a terminal and `NO_COLOR` is not set. */
export const styleFor = (isTty: boolean, env: Readonly<Record<string, string | undefined>>): Style =>
  isTty && (env.NO_COLOR === undefined || env.NO_COLOR === "") ? coloured : plain

const escapes = /\u001b\[[0-9;]*m/g
const width = (text: string): number => text.replace(escapes, "").length

/** Rows under a header, columns padded to their widest cell (the last column is not padded). */
export const table = (style: Style, header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((title, column) =>
    Math.max(width(title), ...rows.map((row) => width(row[column] ?? "")))
  )
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, column) => column === cells.length - 1 ? cell : cell + " ".repeat(widths[column]! - width(cell)))
      .join("  ").trimEnd()
  return [style.bold(line(header)), ...rows.map(line)].join("\n")
}

/** `key  value` lines, keys aligned. */
export const fields = (style: Style, entries: ReadonlyArray<readonly [string, string]>): string => {
  const keyWidth = Math.max(...entries.map(([key]) => key.length))
  return entries.map(([key, value]) => `${style.dim(key.padEnd(keyWidth))}  ${value}`).join("\n")
}

/** A time in UTC, to the millisecond, as ISO 8601. */
export const time = (at: DateTime.Utc): string => DateTime.formatIso(at)

/** An optional time, or `-`. */
export const optionalTime = (at: Option.Option<DateTime.Utc>): string => Option.match(at, { onNone: () => "-", onSome: time })

/** A JSON value on one line, cut at `max` characters. */
export const json = (value: unknown, max = 120): string => {
  const text = JSON.stringify(value) ?? "undefined"
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

const currentJob = (deployment: Deployment): string => {
  const job = deployment.jobs[deployment.currentJob]
  return job === undefined ? String(deployment.currentJob) : `${deployment.currentJob} ${job.name}`
}

/** The rows of `list`. */
export const deploymentTable = (style: Style, deployments: ReadonlyArray<Deployment>): string =>
  table(
    style,
    ["ID", "APPLICATION", "ACTION", "KEY", "STATUS", "JOB", "REQUEST", "UPDATED"],
    deployments.map((d) => [
      d.id,
      d.application,
      d.action,
      Option.getOrElse(d.key, () => "-"),
      style.status(d.status),
      String(d.currentJob),
      Option.match(d.request, { onNone: () => "-", onSome: (request) => request.operation }),
      time(d.updatedAt)
    ])
  )

/** The error log, as a table. */
export const errorTable = (style: Style, entries: ReadonlyArray<ErrorEntry>): string =>
  table(
    style,
    ["SEQ", "AT", "JOB", "PHASE", "TAG", "MESSAGE"],
    entries.map((e) => [
      String(e.sequence),
      time(e.at),
      Option.getOrElse(e.job, () => "-"),
      e.phase,
      e.tag,
      e.message
    ])
  )

/** The history of operators' operations, as a table. */
export const historyTable = (style: Style, entries: ReadonlyArray<HistoryEntry>): string =>
  table(
    style,
    ["SEQ", "AT", "OPERATION", "OUTCOME", "BY", "JOB", "REASON", "MESSAGE"],
    entries.map((e) => [
      String(e.sequence),
      time(e.at),
      e.operation,
      e.outcome,
      e.by,
      Option.getOrElse(e.job, () => "-"),
      Option.getOrElse(e.reason, () => "-"),
      Option.getOrElse(e.message, () => "-")
    ])
  )

/** A pending request, on one line. */
const requestText = (request: OperationRequest): string =>
  [
    `${request.operation} requested by ${request.by} at ${time(request.at)}`,
    ...Option.match(request.reason, { onNone: () => [], onSome: (reason) => [`reason: ${reason}`] }),
    ...Option.match(request.input, { onNone: () => [], onSome: (input) => [`input: ${json(input)}`] }),
    ...Option.match(request.key, { onNone: () => [], onSome: (key) => [`key: ${key}`] }),
    "(not carried out yet: a process that has the action carries it out)"
  ].join("; ")

/** Everything `show` prints about a deployment: its record, each job with its values, its error log, its history. */
export const deploymentDetail = (style: Style, deployment: Deployment, errors: ReadonlyArray<ErrorEntry>): string => {
  const d = deployment
  const failure = Option.map(d.failure, (f) => `${f.tag} at job ${f.jobIndex} ${f.job} (${f.phase}): ${f.message}`)
  const parked = Option.map(
    d.parked,
    (p) => `${p.field}${Option.match(p.job, { onNone: () => "", onSome: (job) => ` of job ${job}` })}: ${p.issue}`
  )
  const header = fields(style, [
    ["id", d.id],
    ["application", d.application],
    ["action", d.action],
    ["key", Option.getOrElse(d.key, () => "-")],
    ["status", style.status(d.status)],
    ["current job", currentJob(d)],
    ["created", time(d.createdAt)],
    ["updated", time(d.updatedAt)],
    ["owner", Option.getOrElse(d.owner, () => "-")],
    ["lease", `epoch ${d.leaseEpoch}, expires ${optionalTime(d.leaseExpiresAt)}`],
    ["stop requested", d.stopRequested ? "yes" : "no"],
    ["resumes", String(d.resumes)],
    ["fingerprint", d.fingerprint],
    ...Option.match(failure, { onNone: () => [], onSome: (text) => [["failure", text] as const] }),
    ...Option.match(parked, { onNone: () => [], onSome: (text) => [["parked", text] as const] }),
    ...Option.match(d.restartOf, { onNone: () => [], onSome: (id) => [["restart of", id] as const] }),
    ...Option.match(d.request, { onNone: () => [], onSome: (request) => [["request", requestText(request)] as const] }),
    ...Option.match(d.output, { onNone: () => [], onSome: (value) => [["output", json(value)] as const] })
  ])
  const jobs = table(
    style,
    ["#", "JOB", "STATUS", "ATTEMPTS", "STARTED", "FINISHED"],
    d.jobs.map((job) => [
      String(job.index),
      job.name,
      style.status(job.status),
      String(job.attempts),
      optionalTime(job.startedAt),
      optionalTime(job.finishedAt)
    ])
  )
  const values = d.jobs.flatMap((job) => [
    `${style.bold(`${job.index} ${job.name}`)}`,
    `  input   ${Option.match(job.input, { onNone: () => "-", onSome: (v) => json(v, 1000) })}`,
    `  output  ${Option.match(job.output, { onNone: () => "-", onSome: (v) => json(v, 1000) })}`
  ])
  const log = errors.length === 0 ? style.dim("(no errors)") : errorTable(style, errors)
  const history = d.history.length === 0 ? style.dim("(no operations)") : historyTable(style, d.history)
  return [
    header,
    "",
    style.bold("JOBS"),
    jobs,
    "",
    ...values,
    "",
    style.bold("ERRORS"),
    log,
    "",
    style.bold("HISTORY"),
    history
  ].join("\n")
}

/** What an operation's receipt says, on one line. */
export const receiptLine = (
  command: string,
  receipt: OperationReceipt,
  options: { readonly waiting: boolean }
): string => {
  const follow = options.waiting ? "" : " (follow it with show, or pass --wait)"
  const restarted = Option.match(receipt.restartedAs, {
    onNone: () => "",
    onSome: (id) => `; the new deployment's id is ${id}`
  })
  if (receipt.outcome === "requested") {
    const requested = "requested: a process that has the action carries it out"
    return `${command} of deployment ${receipt.deploymentId}: ${requested}${restarted}${follow}`
  }
  const done = receipt.operation === "stop" ? "done: the process that runs it rolls it back" : "done"
  return `${command} of deployment ${receipt.deploymentId}: ${done}${restarted}${follow}`
}

/** How a waited-for operation ended: who carried it out, and the status the deployment rests in. */
export const waitedLines = (style: Style, receipt: OperationReceipt, waited: Waited): string => {
  const what = Option.isSome(receipt.restartedAs) ? "new deployment" : "deployment"
  return [
    `done: ${Option.getOrElse(waited.entry.message, () => "carried out")}`,
    `${what} ${waited.deployment.id}: ${style.status(waited.deployment.status)}`
  ].join("\n")
}

/** What a bulk operation did, or on a dry run would do. */
export const bulkSummary = (style: Style, command: string, result: BulkResult): string => {
  const count = `${result.matched} deployment${result.matched === 1 ? "" : "s"}`
  if (result.dryRun) {
    return [`dry run: ${command} would apply to ${count}`, ...result.ids].join("\n")
  }
  const counts = (["done", "requested", "refused"] as const).map((outcome) =>
    `${result.items.filter((item) => item.outcome === outcome).length} ${outcome}`
  )
  const summary = `${command}: ${count} matched: ${counts.join(", ")}`
  if (result.items.length === 0) return summary
  const rows = table(
    style,
    ["ID", "OUTCOME", "MESSAGE"],
    result.items.map((item) => [item.deploymentId, item.outcome, Option.getOrElse(item.message, () => "-")])
  )
  const requested = result.items.some((item) => item.outcome === "requested")
    ? ["", style.dim("requested: a process that has the action carries it out")]
    : []
  return [summary, rows, ...requested].join("\n")
}
