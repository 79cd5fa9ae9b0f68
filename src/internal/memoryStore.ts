/**
 * The in-memory `DeploymentStore`: plain JavaScript maps holding the encoded values as they are (no JSON round trip),
 * refusing what PostgreSQL refuses, so that what passes on it passes there. `DeploymentStore.makeMemory` and
 * `DeploymentStore.layerMemory` are its public forms.
 *
 * Its parts share one state (`memoryState.ts`) and are named after the parts of the contract: the writes of a run
 * (`memoryWrites.ts`), the reads (`memoryReads.ts`), the leases (`memoryLeases.ts`) and the operators' operations
 * (`memoryOperations.ts`).
 *
 * @internal
 */
import { Effect, PubSub } from "effect"
import type { DeploymentStoreShape } from "../DeploymentStore.ts"
import { makeMemoryLeases } from "./memoryLeases.ts"
import { makeMemoryOperations } from "./memoryOperations.ts"
import { makeMemoryReads } from "./memoryReads.ts"
import type { MemoryState } from "./memoryState.ts"
import { makeMemoryWrites } from "./memoryWrites.ts"

/** Builds an in-memory store (see `DeploymentStore.makeMemory`). */
export const makeMemoryStore: Effect.Effect<DeploymentStoreShape> = Effect.gen(function*() {
  const state: MemoryState = {
    entries: new Map(),
    byKey: new Map(),
    stops: yield* PubSub.unbounded<string>(),
    sequence: 0
  }
  return {
    ...makeMemoryWrites(state),
    ...makeMemoryReads(state),
    ...makeMemoryLeases(state),
    ...makeMemoryOperations(state)
  }
})
