/**
 * Calls to the operator API under test, on the wire: one request with effect's `HttpClient` (its status, headers,
 * text and parsed JSON body), the typed client of the API mounted at `/ops`, and small assertions on JSON bodies.
 */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { Actions } from "effect-actions"
import { OperatorApi } from "effect-actions/http"
import { HttpBody, HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { HttpApiClient } from "effect/http-api"

/** What the server answered. */
export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly text: string
  readonly body: unknown
}

const reply = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(response.text, (text): Reply => {
    let body: unknown = undefined
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      body = undefined
    }
    return { status: response.status, headers: response.headers, text, body }
  })

/** One request to the test server; `body` is sent as JSON, or as is when it is a string. */
export const call = (
  method: "GET" | "POST",
  path: string,
  options: { readonly body?: unknown; readonly token?: string } = {}
) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let request = method === "GET" ? HttpClientRequest.get(path) : HttpClientRequest.post(path)
    if (options.body !== undefined) {
      request = typeof options.body === "string"
        ? HttpClientRequest.setBody(request, HttpBody.text(options.body, "application/json"))
        : HttpClientRequest.bodyJsonUnsafe(request, options.body)
    }
    if (options.token !== undefined) request = HttpClientRequest.bearerToken(request, options.token)
    return yield* reply(yield* client.execute(request))
  }).pipe(Effect.scoped, Effect.orDie)

/** A JSON object, asserted to be one. */
export const record = (value: unknown): Record<string, unknown> => {
  assert.isTrue(typeof value === "object" && value !== null && !Array.isArray(value), `an object: ${JSON.stringify(value)}`)
  return value as Record<string, unknown>
}

/** Whether a value is an ISO 8601 timestamp in UTC, as the views write them. */
export const isIsoTimestamp = (value: unknown): boolean =>
  typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)

/** Reads a deployment until `predicate` holds (at most `attempts` reads, 20 ms apart). */
export const readUntil = (
  id: string,
  predicate: (deployment: Actions.DeploymentPage["items"][number]) => boolean,
  attempts = 250
) =>
  Effect.gen(function*() {
    const actions = yield* Actions.Actions
    for (let attempt = 0; attempt < attempts; attempt++) {
      const deployment = yield* Effect.orDie(actions.get(id))
      if (predicate(deployment)) return deployment
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.die(new Error(`deployment ${id} never reached the expected state`))
  })

/** The typed client of the API mounted at `/ops`. */
export const typedClient = HttpApiClient.make(OperatorApi.Api, {
  // Before the test client puts the server's origin in front.
  transformClient: HttpClient.mapRequestInput(HttpClientRequest.prependUrl("/ops"))
})
