/**
 * Printing benchmark results: the machine they ran on, and plain-text tables.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as os from "node:os"

/** Where and when a benchmark ran. */
export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memory: string
  readonly os: string
  readonly node: string
  readonly effect: string
  readonly source: string
  readonly date: string
}

const effectVersion = (): string => {
  try {
    const manifest: unknown = JSON.parse(
      readFileSync(new URL("../../node_modules/effect/package.json", import.meta.url), "utf8")
    )
    return typeof manifest === "object" && manifest !== null && "version" in manifest
      ? String(manifest.version)
      : "unknown"
  } catch {
    return "unknown"
  }
}

const git = (args: ReadonlyArray<string>): string =>
  execFileSync("git", ["--no-optional-locks", ...args], {
    cwd: new URL("../..", import.meta.url),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"]
  }).trim()

/** The commit measured, and whether `src/` differs from it (read-only git commands). */
const sourceState = (): string => {
  try {
    const commit = git(["rev-parse", "--short", "HEAD"])
    const clean = git(["status", "--porcelain", "--", "src"]) === ""
    return clean ? `commit ${commit}` : `commit ${commit} + uncommitted changes in src/`
  } catch {
    return "unknown (not a git checkout)"
  }
}

/** The machine running this process. */
export const machine = (): Machine => {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    effect: effectVersion(),
    source: sourceState(),
    date: new Date().toISOString()
  }
}

/** The machine as lines of text. */
export const describeMachine = (m: Machine): string =>
  [
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}`,
    `runtime: Node.js ${m.node}, effect ${m.effect}`,
    `source:  effect-actions ${m.source}`,
    `date:    ${m.date}`
  ].join("\n")

/** A column of a table: its title, and whether its cells are right-aligned (numbers). */
export interface Column {
  readonly title: string
  readonly numeric?: boolean
}

/** Renders rows as a Markdown table whose columns are padded to line up in a terminal too. */
export const table = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = columns.map((column, index) =>
    Math.max(column.title.length, ...rows.map((row) => (row[index] ?? "").length))
  )
  const cell = (text: string, index: number) =>
    columns[index]?.numeric === true ? text.padStart(widths[index]!) : text.padEnd(widths[index]!)
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map(cell).join(" | ")} |`
  const ruleCell = (width: number, index: number) =>
    columns[index]?.numeric === true ? `${"-".repeat(width + 1)}:` : "-".repeat(width + 2)
  const rule = `|${widths.map(ruleCell).join("|")}|`
  return [line(columns.map((column) => column.title)), rule, ...rows.map(line)].join("\n")
}

/** A number with a fixed count of decimals. */
export const fixed = (value: number, decimals = 1): string => value.toFixed(decimals)

/** A whole number with thousands separators. */
export const whole = (value: number): string => Math.round(value).toLocaleString("en-US")
