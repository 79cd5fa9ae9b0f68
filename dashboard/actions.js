// @ts-check
/**
 * The operations on a deployment from the page: which apply to which status, what each will do (said before it is
 * confirmed), the confirmation dialog (with a reason, the retry's input editor, the restart's key), and the
 * receipts.
 *
 * @since 0.3.0
 */
import * as Api from "./api.js"
import { h, replace } from "./dom.js"

/** @typedef {"stop" | "retry" | "rollback" | "retry_rollback" | "restart"} Operation */

/** The statuses each operation applies to. @type {Readonly<Record<Operation, ReadonlyArray<string>>>} */
export const appliesTo = {
  stop: ["running", "paused"],
  retry: ["paused"],
  rollback: ["paused"],
  retry_rollback: ["rollback_failed"],
  restart: ["succeeded", "rolled_back", "rollback_failed"]
}

/** The button text of each operation. @type {Readonly<Record<Operation, string>>} */
export const labels = {
  stop: "Stop",
  retry: "Retry",
  rollback: "Roll back",
  retry_rollback: "Retry rollback",
  restart: "Restart"
}

/** @param {ReadonlyArray<string>} names */
const sequence = (names) => names.length === 0 ? "none" : names.join(" → ")

/**
 * What an operation will do to this deployment, in a sentence or two.
 *
 * @param {Operation} operation
 * @param {import("./types.js").Deployment} deployment
 */
export const consequence = (operation, deployment) => {
  const jobs = deployment.jobs
  const completed = jobs.filter((job) => job.status === "succeeded").map((job) => job.name).reverse()
  const failedJob = deployment.failure?.job ?? jobs[deployment.currentJob]?.name ?? "the failed job"
  switch (operation) {
    case "stop":
      return deployment.status === "paused"
        ? `The paused deployment rolls back (with ExecutionStopped): ${failedJob}'s rollback, then the completed jobs' in reverse order: ${sequence(completed)}.`
        : `The deployment is stopped wherever it runs: the running job is interrupted, then the completed jobs roll back in reverse order: ${sequence(completed)}. It ends rolled back, or rollback failed.`
    case "retry": {
      const job = jobs.find((j) => j.name === failedJob)
      return `${failedJob} runs again (attempt ${(job?.attempts ?? 0) + 1}) with the input below, then the jobs after it run forward.`
    }
    case "rollback":
      return `The deployment rolls back as if ${failedJob} had failed now: its rollback runs, then the completed jobs' in reverse order: ${sequence(completed)}.`
    case "retry_rollback": {
      const failed = jobs.filter((job) => job.status === "rollback_failed").map((job) => job.name).reverse()
      return `The failed rollbacks run again, in reverse order: ${sequence(failed)}. Rollbacks already done do not run again. It ends rolled back, or rollback failed again.`
    }
    case "restart":
      return `A new deployment of ${deployment.application}/${deployment.action} starts with the same first input, linked to this one (restartOf). This deployment is not changed.`
  }
}

/**
 * What the server said it did.
 *
 * @param {import("./types.js").Receipt} receipt
 */
export const receiptText = (receipt) => {
  const restarted = receipt.restartedAs === undefined ? "" : " New deployment: "
  return receipt.outcome === "done"
    ? `${labels[/** @type {Operation} */ (receipt.operation)] ?? receipt.operation}: done.${restarted}`
    : `${labels[/** @type {Operation} */ (receipt.operation)] ?? receipt.operation}: requested. A process that has the action carries it out at its next recovery pass.${restarted}`
}

const dialog = /** @type {HTMLDialogElement} */ (document.getElementById("confirm"))
const form = /** @type {HTMLFormElement} */ (document.getElementById("confirm-form"))
const title = /** @type {HTMLElement} */ (document.getElementById("confirm-title"))
const body = /** @type {HTMLElement} */ (document.getElementById("confirm-body"))
const errorLine = /** @type {HTMLElement} */ (document.getElementById("confirm-error"))
const okButton = /** @type {HTMLButtonElement} */ (document.getElementById("confirm-ok"))
const cancelButton = /** @type {HTMLButtonElement} */ (document.getElementById("confirm-cancel"))

/** The listeners of the question the dialog asks now, removed when it is answered. */
let removeListeners = () => {}
cancelButton.addEventListener("click", () => dialog.close("cancel"))

/**
 * Asks for confirmation in the dialog; `run` is called on confirm, and the dialog stays open with the error when it
 * throws (a 400 `InputValidationError`, a 409 refusal). Resolves with `run`'s result, or undefined on cancel.
 *
 * While `run` is in flight the dialog cannot be dismissed (Cancel is disabled, Escape does nothing, and a dialog
 * the browser closes anyway is shown again): the operation is applied whatever the viewer does, so the page waits
 * for its answer to show the receipt (or the error).
 *
 * @template A
 * @param {{ title: string, content: ReadonlyArray<Node | string>, confirm: string, run: () => Promise<A> }} options
 * @returns {Promise<A | undefined>}
 */
export const confirmDialog = (options) => new Promise((resolve) => {
  removeListeners()
  title.textContent = options.title
  replace(body, ...options.content)
  errorLine.hidden = true
  okButton.textContent = options.confirm
  okButton.disabled = false
  cancelButton.disabled = false
  let inFlight = false
  /** @param {boolean} running */
  const setInFlight = (running) => {
    inFlight = running
    okButton.disabled = running
    cancelButton.disabled = running
    form.setAttribute("aria-busy", String(running))
  }
  /** @param {A | undefined} value */
  const answer = (value) => {
    removeListeners()
    resolve(value)
  }
  /** @param {SubmitEvent} event */
  const onSubmit = async (event) => {
    event.preventDefault()
    if (inFlight) return
    setInFlight(true)
    errorLine.hidden = true
    try {
      const result = await options.run()
      setInFlight(false)
      answer(result)
      dialog.close("done")
    } catch (error) {
      setInFlight(false)
      errorLine.textContent = error instanceof Error ? error.message : String(error)
      errorLine.hidden = false
    }
  }
  /** @param {Event} event */
  const onCancel = (event) => {
    if (inFlight) event.preventDefault()
  }
  const onClose = () => {
    if (inFlight) dialog.showModal()
    else answer(undefined)
  }
  form.addEventListener("submit", onSubmit)
  dialog.addEventListener("cancel", onCancel)
  dialog.addEventListener("close", onClose)
  removeListeners = () => {
    form.removeEventListener("submit", onSubmit)
    dialog.removeEventListener("cancel", onCancel)
    dialog.removeEventListener("close", onClose)
    removeListeners = () => {}
  }
  dialog.returnValue = ""
  dialog.showModal()
  const first = /** @type {HTMLElement | null} */ (body.querySelector("textarea, input"))
  ;(first ?? okButton).focus()
})

/** @param {string} id @param {string} text */
const field = (id, text, /** @type {HTMLElement} */ control) =>
  h("p", { class: "field" }, h("label", { for: id }, text), control)

/**
 * Asks for and applies one operation to a deployment; the receipt, or undefined when cancelled.
 *
 * @param {Operation} operation
 * @param {import("./types.js").Deployment} deployment
 */
export const runOperation = (operation, deployment) => {
  const reason = /** @type {HTMLInputElement} */ (h("input", { id: "op-reason", type: "text", maxlength: "4096", autocomplete: "off" }))
  /** @type {HTMLTextAreaElement | undefined} */
  let input = undefined
  /** @type {HTMLInputElement | undefined} */
  let key = undefined
  /** @type {Array<Node | string>} */
  const content = [h("p", { class: "consequence" }, consequence(operation, deployment))]
  if (operation === "retry") {
    const failedJob = deployment.jobs.find((job) => job.name === deployment.failure?.job)
    input = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: "op-input", rows: "8", spellcheck: "false" }))
    input.value = JSON.stringify(failedJob?.input ?? null, null, 2)
    content.push(field("op-input", `Input of ${failedJob?.name ?? "the failed job"} (JSON; the server checks it against the job's input schema)`, input))
  }
  if (operation === "restart") {
    key = /** @type {HTMLInputElement} */ (h("input", { id: "op-key", type: "text", autocomplete: "off" }))
    content.push(field("op-key", "Key of the new deployment (optional)", key))
  }
  content.push(field("op-reason", "Reason (kept in the history, optional)", reason))
  return confirmDialog({
    title: `${labels[operation]} deployment ${deployment.id}?`,
    content,
    confirm: labels[operation],
    run: async () => {
      /** @type {Record<string, unknown>} */
      const payload = {}
      if (reason.value.trim() !== "") payload.reason = reason.value.trim()
      if (key && key.value.trim() !== "") payload.key = key.value.trim()
      if (input) {
        try {
          payload.input = JSON.parse(input.value)
        } catch (error) {
          throw new Error(`The input is not JSON: ${error instanceof Error ? error.message : String(error)}`)
        }
      }
      return Api.operate(deployment.id, operation, payload)
    }
  })
}

/**
 * The bar of operation buttons of a deployment: those that do not apply to its status are disabled, saying why.
 *
 * @param {import("./types.js").Deployment} deployment
 * @param {(receipt: import("./types.js").Receipt) => void} onDone
 */
export const actionBar = (deployment, onDone) =>
  h("div", { class: "actions", role: "group", "aria-label": "Operations" },
    /** @type {ReadonlyArray<Operation>} */ (["stop", "retry", "rollback", "retry_rollback", "restart"]).map((operation) => {
      const applies = appliesTo[operation].includes(deployment.status)
      return h("button", {
        type: "button",
        class: operation === "stop" ? "danger" : "",
        "data-operation": operation,
        "data-focus": `operation ${operation}`,
        disabled: !applies,
        title: applies ? consequence(operation, deployment) : `Only for ${appliesTo[operation].join(", ").replaceAll("_", " ")} deployments`,
        onclick: async () => {
          const receipt = await runOperation(operation, deployment)
          if (receipt !== undefined) onDone(receipt)
        }
      }, labels[operation])
    }))
