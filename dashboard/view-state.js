// @ts-check
/**
 * What the viewer opened, expanded and focused on a page that is drawn again when its data changes (a deployment's
 * page is, at each change the event stream reports): kept by key, so that the new drawing shows the same parts open
 * and expanded, and gives the focus back to the element that had it.
 *
 * An element takes part through a key of its own, the same from one drawing to the next: a `<details>` element or
 * a "show more" control keeps its state in a `ViewState` under its key; an element that can have the focus carries
 * its key in `data-focus`.
 *
 * @since 0.3.0
 */

/** @typedef {Map<string, boolean>} ViewState what was opened or expanded, by key */

/**
 * A new view state, empty: every part is drawn as it is by default.
 *
 * @returns {ViewState}
 */
export const viewState = () => new Map()

/**
 * Opens a `<details>` element as the viewer left it (as `fallback` says the first time), and remembers each toggle.
 *
 * @param {ViewState} state
 * @param {string} key
 * @param {boolean} fallback
 * @param {HTMLElement} element a `<details>` element
 */
export const rememberOpen = (state, key, fallback, element) => {
  const details = /** @type {HTMLDetailsElement} */ (element)
  details.open = state.get(key) ?? fallback
  details.addEventListener("toggle", () => state.set(key, details.open))
  return details
}

/**
 * The `data-focus` key of the element that has the focus, when it is inside `root`.
 *
 * @param {Element} root
 * @returns {string | undefined}
 */
export const focusedKey = (root) => {
  const active = document.activeElement
  return active instanceof HTMLElement && root.contains(active) ? active.dataset.focus : undefined
}

/**
 * Gives the focus to the element of `root` whose `data-focus` key is `key`, when there is one.
 *
 * @param {Element} root
 * @param {string | undefined} key
 */
export const restoreFocus = (root, key) => {
  if (key === undefined) return
  const element = root.querySelector(`[data-focus="${CSS.escape(key)}"]`)
  if (element instanceof HTMLElement) element.focus({ preventScroll: true })
}
