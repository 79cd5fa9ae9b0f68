/**
 * `effect-actions/http`: the operator surface over HTTP.
 *
 * - `OperatorApi`: the API's definition (endpoints, request and response Schemas, errors with their status codes,
 *   the event stream's events), to serve it or to call it with `HttpApiClient`;
 * - `OperatorHttp`: the API served from the `Actions` service, mountable in your `HttpRouter` under a prefix, with
 *   its OpenAPI document;
 * - `Dashboard`: the web page of deployments that reads and operates them through that API, mounted beside it.
 *
 * This is an operator surface: never expose it unauthenticated (see `docs/http.md`).
 *
 * @since 0.2.0
 */

/**
 * The operator API's definition, shared by servers and clients.
 *
 * @since 0.2.0
 */
export * as OperatorApi from "./OperatorApi.ts"

/**
 * The operator API served from the `Actions` service.
 *
 * @since 0.2.0
 */
export * as OperatorHttp from "./OperatorHttp.ts"

/**
 * The web dashboard of deployments, served beside the operator API.
 *
 * @since 0.3.0
 */
export * as Dashboard from "./Dashboard.ts"
