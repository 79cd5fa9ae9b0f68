/**
 * The dashboard demo (`npm run demo`, `examples/demo/server.ts`) on a free port: it announces its URL on 127.0.0.1,
 * serves the page there, and its generator's first batch ends as the demo says: most deployments succeeded, some
 * rolled back, some paused, and exactly one rollback failed.
 */
import { assert, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientResponse } from "effect/http"
import { demoServer } from "../examples/demo/server.ts"

const Counts = Schema.Struct({ counts: Schema.Record(Schema.String, Schema.Number), atMost: Schema.Number })

/** Whether the counts are those of the first batch at its end. */
const settled = (counts: Readonly<Record<string, number>>) => {
  const succeeded = counts.succeeded ?? 0
  const others = Object.entries(counts).filter(([status]) => status !== "succeeded").map(([, count]) => count)
  return others.every((count) => count < succeeded) &&
    (counts.rolled_back ?? 0) >= 1 && (counts.paused ?? 0) >= 1 && counts.rollback_failed === 1
}

it.live("announces its URL on 127.0.0.1, serves the dashboard there, and its first batch ends mostly succeeded", () =>
  Effect.gen(function*() {
    const announced = yield* Deferred.make<string>()
    yield* Layer.build(demoServer({
      port: 0,
      initial: 24,
      every: "1 hour", // the first batch only
      onListen: (url) => Deferred.succeed(announced, url).pipe(Effect.asVoid)
    }))
    const url = yield* Deferred.await(announced)
    const port = /^http:\/\/127\.0\.0\.1:(\d+)\/$/.exec(url)?.[1]
    assert.isDefined(port, url)
    assert.notStrictEqual(port, "0", "the port it listens on, not the one asked for")

    const client = yield* HttpClient.HttpClient
    const page = yield* client.get(url)
    assert.strictEqual(page.status, 200)
    assert.match(page.headers["content-type"] ?? "", /^text\/html/)
    assert.include(yield* page.text, '<meta name="effect-actions-api" content="/api">')

    let counts: Readonly<Record<string, number>> = {}
    for (let poll = 0; poll < 60 && !settled(counts); poll++) {
      yield* Effect.sleep("200 millis")
      counts = (yield* client.get(`${url}api/counts`).pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Counts)))).counts
    }
    assert.isTrue(settled(counts), JSON.stringify(counts))
  }).pipe(Effect.provide(FetchHttpClient.layer)), 20_000)
