/**
 * The child processes of `bench/recovery.ts`: started with this Node.js (`process.execPath`, so the project's Node
 * 24 when the bench runs under it) on a `.ts` file of `bench/support/`, read line by line (`recoveryAction.ts`
 * messages), told `GO`/`STOP` on stdin, and killed. A child exits by itself when its stdin closes, so one that
 * outlives a crashed parent does not linger.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import { createInterface } from "node:readline"
import { type ChildMessage, messagePrefix } from "./recoveryAction.ts"

/** A running child of the bench. */
export class Child {
  readonly name: string
  readonly process: ChildProcess
  readonly messages: Array<ChildMessage> = []
  /** Its stderr, and stdout lines that are not messages, for error reports. */
  readonly output: Array<string> = []
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  readonly #waiters = new Set<() => void>()

  constructor(name: string, file: string, config: unknown) {
    this.name = name
    this.process = spawn(process.execPath, [Path.join(import.meta.dirname, file), JSON.stringify(config)], {
      stdio: ["pipe", "pipe", "pipe"]
    })
    createInterface({ input: this.process.stdout! }).on("line", (line) => {
      if (line.startsWith(messagePrefix)) this.messages.push(JSON.parse(line.slice(messagePrefix.length)))
      else this.output.push(line)
      this.#notify()
    })
    createInterface({ input: this.process.stderr! }).on("line", (line) => void this.output.push(line))
    this.exited = new Promise((resolve) => {
      this.process.on("exit", (code, signal) => {
        this.#notify()
        resolve({ code, signal })
      })
    })
  }

  get pid(): number {
    return this.process.pid ?? -1
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter()
  }

  /**
   * Resolves with the first message from index `from` on that `accept` returns a value for; rejects when the
   * child exits first or `timeoutMillis` passes.
   */
  waitFor<A>(
    accept: (message: ChildMessage) => A | undefined,
    timeoutMillis: number,
    from = 0
  ): Promise<{ readonly value: A; readonly index: number }> {
    return new Promise((resolve, reject) => {
      let checked = from
      const check = () => {
        for (; checked < this.messages.length; checked++) {
          const value = accept(this.messages[checked]!)
          if (value !== undefined) return done(() => resolve({ value, index: checked }))
        }
        if (!this.running) done(() => reject(this.failure("exited")))
      }
      const timer = setTimeout(() => done(() => reject(this.failure(`timed out after ${timeoutMillis} ms`))), timeoutMillis)
      const done = (settle: () => void) => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        settle()
      }
      this.#waiters.add(check)
      check()
    })
  }

  /** Sends one line on its stdin. */
  send(line: string): void {
    this.process.stdin?.write(`${line}\n`)
  }

  /** Kills it with `signal` and waits until it is gone. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.running) this.process.kill(signal)
    await this.exited
  }

  failure(what: string): Error {
    return new Error(`${this.name} ${what}; its output:\n${this.output.slice(-40).join("\n")}`)
  }
}
