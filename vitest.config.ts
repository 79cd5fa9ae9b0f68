/**
 * The tests run the library from its TypeScript sources: the package's `effect-actions-source` export condition
 * (see package.json `exports`) picks `src/` over the built `dist/`, for the test files and for every Node process a
 * test spawns (through `NODE_OPTIONS`, which those processes inherit).
 */
import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

const condition = "effect-actions-source"
const flag = `--conditions=${condition}`
if (!(process.env.NODE_OPTIONS ?? "").includes(flag)) {
  process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, flag].filter((option) => option !== undefined && option !== "").join(" ")
}

export default defineConfig({
  resolve: { conditions: [condition, ...defaultServerConditions] },
  ssr: { resolve: { conditions: [condition, ...defaultServerConditions] } }
})
