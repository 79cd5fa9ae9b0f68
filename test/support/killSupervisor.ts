/**
 * Worker processes for the kill test: starts them (`node test/support/killWorker.ts`), kills them with SIGKILL at
 * seeded random moments, and replaces them with new processes (new owner ids), one loop per slot.
 *
 * Each slot keeps a standby process with its modules loaded (a Node start costs ~0.3-1 s of this machine's time,
 * most of it loading Effect): a killed worker is replaced at once by sending the standby its configuration.
 *
 * Only real kills count: a SIGKILL sent to a worker that had reported itself running, and that ended by that
 * signal. A worker that exits on its own after it was running is a crash (reported, with its output); one that exits
 * before (its database was unreachable while it started) is a failed start, replaced.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { seededRandom } from "./invariants.ts"
import { type PlannedDeployment, READY, type WorkerConfig } from "./killPlan.ts"

const workerPath = Path.join(import.meta.dirname, "killWorker.ts")

/** `KILL_LOG_DIR=<dir>`: every worker's output goes to `<dir>/<owner>.log` (for debugging a failed run). */
const logDir = process.env.KILL_LOG_DIR

/** Node's compile cache makes the worker starts of a run cheaper. */
const compileCache = Path.join(Os.tmpdir(), "effect-actions-kill-test-compile-cache")

/** What the supervisor needs to know to start the workers of one run. */
export interface SupervisorOptions {
  readonly databaseUrl: string
  readonly prefix: string
  readonly seed: number
  readonly slots: number
  readonly plan: ReadonlyArray<PlannedDeployment>
  readonly leaseTtlMillis: number
  readonly heartbeatMillis: number
  readonly pollMillis: number
  readonly batch: number
  /** How many kills to make before letting the workers run in peace. */
  readonly kills: number
  /** How long a worker runs, after it reported itself running, before it is killed: drawn from a random number. */
  readonly lifetime: (random: () => number) => number
}

/** A worker that exited on its own. */
export interface Crash {
  readonly owner: string
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly output: string
}

export interface SupervisorStats {
  kills: number
  /** Processes that were given a configuration (standbys never used are not counted). */
  startedProcesses: number
  failedStarts: number
  /** Keys submitted again by a restarted worker (the "same key, same deployment" path). */
  resubmitted: number
  readonly crashes: Array<Crash>
  /** Milliseconds from configuration to `READY`, per process that got there. */
  readonly startupMillis: Array<number>
  /** CPU seconds the killed workers had used (Linux: read from /proc just before the kill), standby time included. */
  cpuSeconds: number
}

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A Node process running killWorker.ts: a standby until it is given a configuration, then a worker. */
interface Process {
  readonly child: ChildProcess
  readonly exit: Promise<Exit>
  exited: boolean
  /** Set before the test kills it: its exit is not a crash. */
  killed: boolean
  owner: string | undefined
  ready: Promise<boolean>
}

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

export class Supervisor {
  readonly stats: SupervisorStats = {
    kills: 0,
    startedProcesses: 0,
    failedStarts: 0,
    resubmitted: 0,
    crashes: [],
    startupMillis: [],
    cpuSeconds: 0
  }
  /** `application_name` prefix of every worker connection. */
  readonly applicationName: string
  private readonly options: SupervisorOptions
  private readonly processes = new Set<Process>()
  private readonly standbys: Array<Process | undefined> = []
  private readonly loops: Array<Promise<void>> = []
  private stopping = false
  private wake: () => void = () => {}
  private woken: Promise<void>

  constructor(options: SupervisorOptions) {
    this.options = options
    this.applicationName = `eakill_${options.prefix}`
    this.woken = new Promise((resolve) => (this.wake = resolve))
  }

  /** Whether the kill phase is over (the requested number of kills was made). */
  get killsDone(): boolean {
    return this.stats.kills >= this.options.kills
  }

  /** Starts one loop per slot. */
  start(): void {
    for (let slot = 0; slot < this.options.slots; slot++) this.loops.push(this.runSlot(slot))
  }

  /** Resolves once the kill phase is over. */
  async killPhase(): Promise<void> {
    while (!this.killsDone) await this.woken
  }

  /** Kills every process (these kills do not count) and waits for the loops to end. */
  async stop(): Promise<void> {
    this.stopping = true
    this.signal()
    for (const process of this.processes) {
      process.killed = true
      process.child.kill("SIGKILL")
    }
    await Promise.all(this.loops)
    await Promise.all([...this.processes].map((process) => process.exit))
  }

  private signal() {
    const wake = this.wake
    this.woken = new Promise((resolve) => (this.wake = resolve))
    wake()
  }

  private async runSlot(slot: number): Promise<void> {
    const random = seededRandom(this.options.seed * 7919 + slot + 1)
    let incarnation = 0
    while (!this.stopping) {
      const standby = this.standbys[slot]
      this.standbys[slot] = undefined
      const worker = standby !== undefined && !standby.exited ? standby : this.spawnProcess()
      const givenAt = Date.now()
      this.configure(worker, slot, incarnation++)
      // The next process of this slot loads its modules while this one runs.
      if (!this.stopping) this.standbys[slot] = this.spawnProcess()
      const ready = await worker.ready
      if (!ready) {
        await worker.exit
        if (!worker.killed) this.stats.failedStarts++
        if (!this.stopping) await sleep(250)
        continue
      }
      this.stats.startupMillis.push(Date.now() - givenAt)
      // Running: killed after a random lifetime while kills are wanted; else left alone until the run stops.
      const lifetime = this.options.lifetime(random)
      const ended = await Promise.race([
        worker.exit.then(() => "exited" as const),
        this.untilStoppingOr(lifetime).then(() => "timer" as const)
      ])
      if (ended === "exited" || this.stopping) {
        await worker.exit
        continue
      }
      if (this.killsDone) {
        // The kill phase ended while it ran: it keeps running until the run stops.
        await Promise.race([worker.exit, this.untilStopping()])
        await worker.exit
        continue
      }
      worker.killed = true
      const cpu = cpuSeconds(worker.child.pid)
      worker.child.kill("SIGKILL")
      const exit = await worker.exit
      if (exit.signal === "SIGKILL") {
        this.stats.kills++
        this.stats.cpuSeconds += cpu
        // The workers submit the deployments due at this kill.
        for (const other of this.processes) {
          if (other.owner !== undefined && !other.exited) other.child.stdin!.write(`kills ${this.stats.kills}\n`)
        }
        this.signal()
      }
    }
  }

  private async untilStopping(): Promise<void> {
    while (!this.stopping) await this.woken
  }

  private async untilStoppingOr(millis: number): Promise<void> {
    const end = Date.now() + millis
    while (!this.stopping && Date.now() < end) {
      await Promise.race([sleep(end - Date.now()), this.woken])
    }
  }

  /** Starts a process; it loads its modules and waits for its configuration. */
  private spawnProcess(): Process {
    const child = spawn(process.execPath, [workerPath], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, NODE_COMPILE_CACHE: compileCache }
    })
    child.stdin!.on("error", () => {})
    const exit = new Promise<Exit>((resolve) =>
      // "close", not "exit": every line the process printed has been read by then
      child.on("close", (code, signal) => resolve({ code, signal }))
    )
    const started: Process = { child, exit, exited: false, killed: false, owner: undefined, ready: Promise.resolve(false) }
    this.processes.add(started)
    void exit.then(() => {
      started.exited = true
      this.processes.delete(started)
      this.signal()
    })
    return started
  }

  /** Gives a process its configuration: it becomes the worker `owner` of `slot`. */
  private configure(worker: Process, slot: number, incarnation: number): void {
    const owner = `kill-worker-${slot}-${incarnation}-${crypto.randomUUID().slice(0, 8)}`
    worker.owner = owner
    const config: WorkerConfig = {
      databaseUrl: this.options.databaseUrl,
      prefix: this.options.prefix,
      owner,
      applicationName: `${this.applicationName}${slot}`,
      seed: this.options.seed,
      kills: this.stats.kills,
      submit: this.options.plan.filter((planned) => planned.seq % this.options.slots === slot),
      leaseTtlMillis: this.options.leaseTtlMillis,
      heartbeatMillis: this.options.heartbeatMillis,
      pollMillis: this.options.pollMillis,
      batch: this.options.batch
    }
    this.stats.startedProcesses++
    const output: Array<string> = []
    const logFile = logDir === undefined ? undefined : Path.join(logDir, `${owner}.log`)
    const keep = (line: string) => {
      output.push(line)
      if (output.length > 60) output.shift()
      if (logFile !== undefined) Fs.appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`)
    }
    let markReady: (ready: boolean) => void = () => {}
    worker.ready = new Promise<boolean>((resolve) => (markReady = resolve))
    let wasReady = false
    lines(worker.child.stdout!, (line) => {
      if (line.startsWith(READY)) {
        wasReady = true
        markReady(true)
      } else if (line.startsWith("KILLWORKER SUBMITTED ") && line.endsWith(" again")) {
        this.stats.resubmitted++
      } else if (!line.startsWith("KILLWORKER SUBMITTED")) {
        keep(line)
      }
    })
    lines(worker.child.stderr!, keep)
    void worker.exit.then(({ code, signal }) => {
      markReady(false)
      if (wasReady && !worker.killed) {
        this.stats.crashes.push({ owner, code, signal, output: output.join("\n") })
      }
    })
    worker.child.stdin!.write(`${JSON.stringify(config)}\n`)
  }
}

/** User and system CPU time of a process, in seconds (0 where /proc cannot tell). */
const cpuSeconds = (pid: number | undefined): number => {
  try {
    // the fields after the command name (which is in parentheses): utime and stime are the 12th and 13th
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

/** Calls `onLine` with each line of a stream. */
const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
  let pending = ""
  stream.setEncoding("utf8")
  stream.on("data", (chunk: string) => {
    pending += chunk
    let newline = pending.indexOf("\n")
    while (newline >= 0) {
      onLine(pending.slice(0, newline))
      pending = pending.slice(newline + 1)
      newline = pending.indexOf("\n")
    }
  })
}
