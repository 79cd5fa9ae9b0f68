// @ts-check
/**
 * Calls to the operator HTTP API, whose location the server writes into the page.
 *
 * @since 0.3.0
 */

const meta = /** @type {HTMLMetaElement | null} */ (document.querySelector('meta[name="effect-actions-api"]'))
/** Where the operator API is. */
export const base = meta?.content ?? "/api"

/** An answer of the API that is not a success: its status and its JSON body (an error with its `_tag`). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {any} body
   */
  constructor(status, body) {
    super(describe(status, body))
    this.status = status
    this.body = body
  }
}

/**
 * A readable sentence for an error body.
 *
 * @param {number} status
 * @param {any} body
 */
const describe = (status, body) => {
  if (body && typeof body === "object") {
    const tag = typeof body._tag === "string" ? body._tag : `HTTP ${status}`
    const message = typeof body.message === "string" ? body.message
      : typeof body.issue === "string" ? `${body.argument ?? ""}: ${body.issue}` : JSON.stringify(body)
    return `${tag}: ${message}`
  }
  return `HTTP ${status}`
}

/**
 * One request; the parsed JSON body of a 2xx, an `ApiError` otherwise.
 *
 * @param {"GET" | "POST"} method
 * @param {string} path
 * @param {unknown} [body]
 */
export const request = async (method, path, body) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  let parsed = undefined
  try {
    parsed = text === "" ? undefined : JSON.parse(text)
  } catch {
    parsed = text
  }
  if (!response.ok) throw new ApiError(response.status, parsed)
  return { status: response.status, body: parsed }
}

/**
 * A query string from a record: arrays repeat their key; empty values are left out.
 *
 * @param {Record<string, string | ReadonlyArray<string> | undefined>} params
 */
export const query = (params) => {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === "") continue
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, one)
  }
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}

/** @param {Record<string, string | ReadonlyArray<string> | undefined>} params */
export const list = async (params) => (await request("GET", `/deployments${query(params)}`)).body
/** @param {Record<string, string | undefined>} params */
export const counts = async (params) => (await request("GET", `/counts${query(params)}`)).body
/** @param {string} id */
export const get = async (id) => (await request("GET", `/deployments/${encodeURIComponent(id)}`)).body
/** @param {string} id */
export const errors = async (id) => (await request("GET", `/deployments/${encodeURIComponent(id)}/errors`)).body
/** @param {string} id */
export const data = async (id) => (await request("GET", `/deployments/${encodeURIComponent(id)}/data`)).body

/** The path segment of each operation. */
export const operationPaths = /** @type {const} */ ({
  stop: "stop",
  retry: "retry",
  rollback: "rollback",
  retry_rollback: "retry-rollback",
  restart: "restart"
})

/**
 * Applies an operation to one deployment; its receipt.
 *
 * @param {string} id
 * @param {keyof typeof operationPaths} operation
 * @param {Record<string, unknown>} body
 */
export const operate = async (id, operation, body) =>
  (await request("POST", `/deployments/${encodeURIComponent(id)}/${operationPaths[operation]}`, body)).body

/** @param {Record<string, unknown>} body */
export const bulk = async (body) => (await request("POST", "/bulk", body)).body

/**
 * The event stream of the deployments matching a filter.
 *
 * @param {Record<string, string | ReadonlyArray<string> | undefined>} params
 */
export const events = (params) => new EventSource(`${base}/events${query(params)}`)
