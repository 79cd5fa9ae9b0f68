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
   * @param {unknown} body
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
 * @param {unknown} body
 */
const describe = (status, body) => {
  if (body && typeof body === "object") {
    const error = /** @type {Record<string, unknown>} */ (body)
    const tag = typeof error._tag === "string" ? error._tag : `HTTP ${status}`
    const where = typeof error.path === "string" ? `at ${error.path}` : typeof error.argument === "string" ? error.argument : undefined
    const subject = error._tag === "InputValidationError" ? `invalid input for job ${error.job}` : undefined
    const message = typeof error.message === "string" ? error.message
      : typeof error.issue === "string"
      ? [subject, where].filter((part) => part !== undefined).join(" ") + `: ${error.issue}`
      : JSON.stringify(body)
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
 * The body of a 2xx answer, as the type the endpoint's view has (the server encodes it with its Schema).
 *
 * @template A
 * @param {"GET" | "POST"} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<A>}
 */
const read = async (method, path, body) => /** @type {A} */ ((await request(method, path, body)).body)

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

/**
 * A page of deployments, newest first.
 *
 * @param {Record<string, string | ReadonlyArray<string> | undefined>} params
 * @returns {Promise<{ items: ReadonlyArray<import("./types.js").Summary>, next?: string }>}
 */
export const list = (params) => read("GET", `/deployments${query(params)}`)
/**
 * The counts per status.
 *
 * @param {Record<string, string | undefined>} params
 * @returns {Promise<{ counts: Readonly<Record<string, number>>, atMost: number }>}
 */
export const counts = (params) => read("GET", `/counts${query(params)}`)
/**
 * A deployment with its jobs and history.
 *
 * @param {string} id
 * @returns {Promise<import("./types.js").Deployment>}
 */
export const get = (id) => read("GET", `/deployments/${encodeURIComponent(id)}`)
/**
 * A deployment's error log.
 *
 * @param {string} id
 * @returns {Promise<{ items: ReadonlyArray<import("./types.js").ErrorEntry> }>}
 */
export const errors = (id) => read("GET", `/deployments/${encodeURIComponent(id)}/errors`)
/**
 * A deployment's job data.
 *
 * @param {string} id
 * @returns {Promise<{ items: ReadonlyArray<import("./types.js").JobDataEntry> }>}
 */
export const data = (id) => read("GET", `/deployments/${encodeURIComponent(id)}/data`)

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
 * @returns {Promise<import("./types.js").Receipt>}
 */
export const operate = (id, operation, body) =>
  read("POST", `/deployments/${encodeURIComponent(id)}/${operationPaths[operation]}`, body)

/**
 * A bulk operation (or its dry run).
 *
 * @param {Record<string, unknown>} body
 * @returns {Promise<import("./types.js").BulkResult>}
 */
export const bulk = (body) => read("POST", "/bulk", body)

/**
 * The event stream of the deployments matching a filter.
 *
 * @param {Record<string, string | ReadonlyArray<string> | undefined>} params
 */
export const events = (params) => new EventSource(`${base}/events${query(params)}`)
