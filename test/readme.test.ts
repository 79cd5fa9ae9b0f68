import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8")

describe("README", () => {
  it("opens with the two commands a new user types", () => {
    const lines = read("README.md").split("\n")
    assert.deepStrictEqual(lines.slice(0, 4), ["```sh", "npm install && npm start", "npm test", "```"])
  })

  it("shows the example that examples/readme.ts type-checks", () => {
    const readme = read("README.md")
    const start = readme.indexOf("```ts\n") + "```ts\n".length
    const example = readme.slice(start, readme.indexOf("```", start))
    assert.isTrue(read("examples/readme.ts").endsWith(example))
  })
})
