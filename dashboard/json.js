// @ts-check
/**
 * A JSON viewer: pretty-printed, objects and arrays collapsible, long strings and long arrays cut short with a
 * button that shows the whole value, and a button that shows the whole document as text.
 *
 * Given a `ViewState`, a viewer drawn again (the deployment page is, at each change) keeps what the viewer collapsed,
 * expanded and showed in full, keyed by the viewer's label and each node's path; its controls carry `data-focus` keys.
 *
 * @since 0.3.0
 */
import { h, replace } from "./dom.js"
import { rememberOpen, viewState } from "./view-state.js"

/** Strings longer than this are cut. */
export const stringLimit = 160
/** Arrays and objects with more entries than this show the first ones only. */
export const entryLimit = 25
/** Nodes deeper than this start collapsed. */
const openDepth = 2

/**
 * Where a node is drawn: the view's key, the node's path in the value, its depth, and the view state.
 *
 * @typedef {{ view: string, path: string, depth: number, state: import("./view-state.js").ViewState }} Place
 */

/** @param {Place} place @param {string} key @returns {Place} */
const child = (place, key) => ({ ...place, path: `${place.path}/${encodeURIComponent(key)}`, depth: place.depth + 1 })

/**
 * One JSON value as a tree.
 *
 * @param {unknown} value
 * @param {Place} place
 * @returns {HTMLElement}
 */
const node = (value, place) => {
  if (value === null) return h("span", { class: "j-null" }, "null")
  if (typeof value === "string") return stringNode(value, place)
  if (typeof value === "number") return h("span", { class: "j-number" }, String(value))
  if (typeof value === "boolean") return h("span", { class: "j-boolean" }, String(value))
  if (Array.isArray(value)) {
    return container("[", "]", value.map((item, index) => /** @type {const} */ ([String(index), item])), place, true)
  }
  if (typeof value === "object") return container("{", "}", Object.entries(value), place, false)
  return h("span", {}, String(value))
}

/** @param {string} value @param {Place} place */
const stringNode = (value, place) => {
  const text = JSON.stringify(value)
  const key = `full ${place.view} ${place.path}`
  if (value.length <= stringLimit || place.state.get(key) === true) return h("span", { class: "j-string", "data-path": place.path }, text)
  const span = h("span", { class: "j-string" }, `${JSON.stringify(value.slice(0, stringLimit))}…`)
  const more = h("button", {
    type: "button",
    class: "link small",
    "data-focus": key,
    onclick: () => {
      place.state.set(key, true)
      span.textContent = text
      more.remove()
    }
  }, `show all ${value.length.toLocaleString()} characters`)
  return h("span", { "data-path": place.path }, span, " ", more)
}

/**
 * @param {string} open
 * @param {string} close
 * @param {ReadonlyArray<readonly [string, unknown]>} entries
 * @param {Place} place
 * @param {boolean} isArray
 */
const container = (open, close, entries, place, isArray) => {
  if (entries.length === 0) return h("span", {}, `${open}${close}`)
  const list = h("ul", { class: "j-entries" })
  const allKey = `all ${place.view} ${place.path}`
  /** @param {number} count */
  const render = (count) => {
    replace(list, entries.slice(0, count).map(([key, item]) =>
      h("li", {}, isArray ? null : h("span", { class: "j-key" }, `${JSON.stringify(key)}: `), node(item, child(place, key)))
    ))
    if (count < entries.length) {
      list.append(h("li", {}, h("button", {
        type: "button",
        class: "link small",
        "data-focus": allKey,
        onclick: () => {
          place.state.set(allKey, true)
          render(entries.length)
        }
      }, `show ${(entries.length - count).toLocaleString()} more`)))
    }
  }
  render(place.state.get(allKey) === true ? entries.length : Math.min(entries.length, entryLimit))
  const summary = `${open} ${entries.length} ${isArray ? (entries.length === 1 ? "item" : "items") : (entries.length === 1 ? "key" : "keys")} ${close}`
  const openKey = `open ${place.view} ${place.path}`
  return rememberOpen(place.state, openKey, place.depth < openDepth, h("details", { class: "j-node", "data-path": place.path },
    h("summary", { "data-focus": openKey }, h("span", { class: "j-summary" }, summary)), list))
}

/**
 * A JSON value, viewed: a tree, plus a button to see (and copy) the whole value as pretty-printed text. With a
 * `state`, what the viewer collapsed, expanded, showed in full or as text is kept there (under `label`, which must
 * then be unique on the page), and drawn so again by the next call.
 *
 * @param {unknown} value
 * @param {string} label what the value is, for the controls' labels
 * @param {import("./view-state.js").ViewState} [state]
 */
export const jsonView = (value, label, state = viewState()) => {
  if (value === undefined) return h("p", { class: "muted" }, "none")
  const whole = JSON.stringify(value, null, 2)
  const textKey = `text ${label}`
  /** @param {boolean} asText */
  const content = (asText) => asText ? h("pre", { class: "j-text" }, whole) : node(value, { view: label, path: "", depth: 0, state })
  /** @param {boolean} asText */
  const toggleText = (asText) => asText ? "back to the tree" : `whole value as text (${whole.length.toLocaleString()} characters)`
  const asText = state.get(textKey) === true
  const box = h("div", { class: "json", "data-json": label, "data-text": asText ? "1" : "0" }, content(asText))
  /** @param {boolean} asText */
  const toggleLabel = (asText) => asText ? `Show the ${label} as a tree` : `Show the whole ${label} as text`
  const toggle = h("button", {
    type: "button",
    class: "link small",
    "aria-label": toggleLabel(asText),
    "data-focus": textKey,
    onclick: () => {
      const showing = !(state.get(textKey) === true)
      state.set(textKey, showing)
      box.dataset.text = showing ? "1" : "0"
      replace(box, content(showing))
      toggle.textContent = toggleText(showing)
      toggle.setAttribute("aria-label", toggleLabel(showing))
    }
  }, toggleText(asText))
  return h("div", { class: "json-view" }, box, toggle)
}
