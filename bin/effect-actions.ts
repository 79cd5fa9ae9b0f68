#!/usr/bin/env node
/**
 * The `effect-actions` command line: `effect-actions --help`, and see `docs/cli.md`. Node runs this TypeScript
 * file directly (type stripping, Node 22.18 and later).
 *
 * Node's compile cache is turned on first (in the OS temporary directory; `NODE_DISABLE_COMPILE_CACHE=1` turns
 * it off): it halves the start of every later run, which otherwise compiles the library's modules again.
 *
 * @since 0.2.0
 */
import { enableCompileCache } from "node:module"

enableCompileCache()
const { main } = await import("../src/internal/cli/main.ts")
main()
