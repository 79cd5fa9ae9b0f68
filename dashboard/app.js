// @ts-check
/**
 * The dashboard's entry point: a router on the address's fragment (`#/` the list, `#/deployments/<id>` a
 * deployment), which stops the previous view's live updates when the view changes.
 *
 * @since 0.3.0
 */
import { renderDeployment } from "./deployment.js"
import { renderList } from "./list.js"

const root = /** @type {HTMLElement} */ (document.getElementById("app"))
/** @type {(() => void) | undefined} */
let stop = undefined

const route = () => {
  stop?.()
  const hash = location.hash.replace(/^#/, "") || "/"
  const [path = "/", search = ""] = hash.split("?")
  const match = /^\/deployments\/(.+)$/.exec(path)
  if (match) {
    document.title = `Deployment ${decodeURIComponent(match[1] ?? "")} · effect-actions`
    stop = renderDeployment(root, decodeURIComponent(match[1] ?? ""))
  } else {
    document.title = "Deployments · effect-actions"
    stop = renderList(root, new URLSearchParams(search))
  }
}

window.addEventListener("hashchange", route)
route()
