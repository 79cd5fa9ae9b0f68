// @ts-check
/**
 * The live indicator of the header: whether the page's event stream is connected, in words.
 *
 * @since 0.3.0
 */
const indicator = /** @type {HTMLElement} */ (document.getElementById("live"))

/**
 * Shows whether the event stream is connected.
 *
 * @param {boolean} connected
 */
export const setLive = (connected) => {
  indicator.textContent = connected ? "● live" : "○ reconnecting…"
  indicator.dataset.live = connected ? "1" : "0"
}
