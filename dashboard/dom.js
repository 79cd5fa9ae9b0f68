// @ts-check
/**
 * Building DOM nodes without a framework: `h(tag, attributes, ...children)`.
 *
 * @since 0.3.0
 */

/**
 * @typedef {string | number | Node | null | undefined | false | ReadonlyArray<Child>} Child
 */

/**
 * An element with attributes (`on*` functions become listeners, `true` a bare attribute, false/null/undefined
 * none) and children (strings become text).
 *
 * An `on*` attribute given anything but a function throws a `TypeError`: a string there would be an inline handler,
 * script that the page never writes, so it is refused rather than set (a cheap guard against script injection).
 *
 * @param {string} tag
 * @param {Record<string, unknown>} [attributes]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export const h = (tag, attributes = {}, ...children) => {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (/^on/i.test(name)) {
      if (typeof value !== "function") throw new TypeError(`h: the attribute ${name} takes a function (a listener), not ${typeof value}`)
      element.addEventListener(name.slice(2).toLowerCase(), /** @type {EventListener} */ (value))
    } else if (value === true) {
      element.setAttribute(name, "")
    } else {
      element.setAttribute(name, String(value))
    }
  }
  append(element, children)
  return element
}

/**
 * Appends children (strings as text, arrays flattened, empty values skipped).
 *
 * @param {Element} parent
 * @param {ReadonlyArray<Child>} children
 */
export const append = (parent, children) => {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(parent, child)
    else if (child instanceof Node) parent.append(child)
    else parent.append(String(child))
  }
}

/**
 * Replaces the children of an element.
 *
 * @param {Element} parent
 * @param {...Child} children
 */
export const replace = (parent, ...children) => {
  parent.replaceChildren()
  append(parent, children)
}
