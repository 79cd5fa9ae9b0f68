// @ts-check
/**
 * A JSON viewer: pretty-printed, objects and arrays collapsible, long strings and long arrays cut short with a
 * button that shows the whole value, and a button that shows the whole document as text.
 *
 * @since 0.3.0
 */
import { h, replace } from "./dom.js"

/** Strings longer than this are cut. */
export const stringLimit = 160
/** Arrays and objects with more entries than this show the first ones only. */
export const entryLimit = 25
/** Nodes deeper than this start collapsed. */
const openDepth = 2

/**
 * One JSON value as a tree.
 *
 * @param {unknown} value
 * @param {number} depth
 * @returns {HTMLElement}
 */
const node = (value, depth) => {
  if (value === null) return h("span", { class: "j-null" }, "null")
  if (typeof value === "string") return stringNode(value)
  if (typeof value === "number") return h("span", { class: "j-number" }, String(value))
  if (typeof value === "boolean") return h("span", { class: "j-boolean" }, String(value))
  if (Array.isArray(value)) {
    return container("[", "]", value.map((item, index) => /** @type {const} */ ([String(index), item])), depth, true)
  }
  if (typeof value === "object") return container("{", "}", Object.entries(value), depth, false)
  return h("span", {}, String(value))
}

/** @param {string} value */
const stringNode = (value) => {
  const text = JSON.stringify(value)
  if (value.length <= stringLimit) return h("span", { class: "j-string" }, text)
  const span = h("span", { class: "j-string" }, `${JSON.stringify(value.slice(0, stringLimit))}…`)
  const more = h("button", {
    type: "button",
    class: "link small",
    onclick: () => {
      span.textContent = text
      more.remove()
    }
  }, `show all ${value.length.toLocaleString()} characters`)
  return h("span", {}, span, " ", more)
}

/**
 * @param {string} open
 * @param {string} close
 * @param {ReadonlyArray<readonly [string, unknown]>} entries
 * @param {number} depth
 * @param {boolean} isArray
 */
const container = (open, close, entries, depth, isArray) => {
  if (entries.length === 0) return h("span", {}, `${open}${close}`)
  const list = h("ul", { class: "j-entries" })
  /** @param {number} count */
  const render = (count) => {
    replace(list, entries.slice(0, count).map(([key, item]) =>
      h("li", {}, isArray ? null : h("span", { class: "j-key" }, `${JSON.stringify(key)}: `), node(item, depth + 1))
    ))
    if (count < entries.length) {
      list.append(h("li", {}, h("button", {
        type: "button",
        class: "link small",
        onclick: () => render(entries.length)
      }, `show ${(entries.length - count).toLocaleString()} more`)))
    }
  }
  render(Math.min(entries.length, entryLimit))
  const summary = `${open} ${entries.length} ${isArray ? (entries.length === 1 ? "item" : "items") : (entries.length === 1 ? "key" : "keys")} ${close}`
  return h("details", { class: "j-node", open: depth < openDepth },
    h("summary", {}, h("span", { class: "j-summary" }, summary)), list)
}

/**
 * A JSON value, viewed: a tree, plus a button to see (and copy) the whole value as pretty-printed text.
 *
 * @param {unknown} value
 * @param {string} label what the value is, for the controls' labels
 */
export const jsonView = (value, label) => {
  if (value === undefined) return h("p", { class: "muted" }, "none")
  const whole = JSON.stringify(value, null, 2)
  const box = h("div", { class: "json", "data-json": label }, node(value, 0))
  const toggle = h("button", {
    type: "button",
    class: "link small",
    "aria-label": `Show the whole ${label} as text`,
    onclick: () => {
      const showing = box.dataset.text === "1"
      box.dataset.text = showing ? "0" : "1"
      replace(box, showing ? node(value, 0) : h("pre", { class: "j-text" }, whole))
      toggle.textContent = showing ? `whole value as text (${whole.length.toLocaleString()} characters)` : "back to the tree"
    }
  }, `whole value as text (${whole.length.toLocaleString()} characters)`)
  return h("div", { class: "json-view" }, box, toggle)
}
