/**
 * Test support: the conformance suite every persistence layer must pass.
 *
 * `DeploymentStoreSuite(name, layer)` registers, with `@effect/vitest`, the tests of the `DeploymentStore`
 * contract: idempotent creation by key and by id (a repeated create), fenced atomic checkpoints, append-only
 * ordered error logs, job data upserts, filtered and paginated lists, stop requests (of parked deployments too),
 * lease claims (one winner under concurrency, never a parked deployment, each counted in `resumes`), heartbeats,
 * releases, status reads, pruning (bounded by its limit), discarding an abandoned create, version mismatches,
 * copies on read, values read back verbatim (quotes, SQL metacharacters, unicode, JSON `null`, 1 MB), values no
 * store can hold refused as `invalid` (never altered), and the optional transaction and stop notifications the
 * store declares; and the operators' operations of the 0.3 contract: the `paused` status (never claimed or pruned),
 * `null` clears, `restartOf` and requests on create, `list` by creation time, `takeOver` (a compare-and-set, one
 * winner under concurrency), requested operations (`requestOperation`, `findRequests`, `recordOperation`) and the
 * history (`requestStop` with an entry included).
 *
 * **When to use**
 *
 * In the test file of a custom store:
 * `DeploymentStoreSuite("my store", MyStore.layer, { transactions: false, stopNotifications: false })`; add
 * `ownClock: true` when the store judges leases on a clock of its own (a database server's). The built-in stores
 * run it too (`test/DeploymentStore.test.ts`, `test/SqlDeploymentStore.test.ts`).
 *
 * **Gotchas**
 *
 * The layer is built once for the whole suite and shared by its tests, which only read and write deployments
 * they created (with random ids and applications), so the store need not be empty. The suite needs `vitest` and
 * `@effect/vitest` (peer dependencies of this entry point).
 *
 * @since 0.1.0
 */
import { describe, layer as layerTest } from "@effect/vitest"
import type { Layer } from "effect"
import type { DeploymentStore, Snapshot } from "./DeploymentStore.ts"
import { capabilityTests } from "./internal/suite/capabilities.ts"
import { checkpointTests, errorLogTests, jobDataTests } from "./internal/suite/checkpoint.ts"
import { createTests } from "./internal/suite/create.ts"
import { discardTests } from "./internal/suite/discard.ts"
import {
  helpersFor,
  makeSnapshot as makeSnapshotInternal,
  type SnapshotOptions as SnapshotOptionsInternal,
  type SuiteOptions as SuiteOptionsInternal
} from "./internal/suite/fixtures.ts"
import { idempotencyTests } from "./internal/suite/idempotency.ts"
import { leaseTests, versionTests } from "./internal/suite/leases.ts"
import { operationTests } from "./internal/suite/operations.ts"
import { pausedTests } from "./internal/suite/paused.ts"
import { pruneOlderTests, pruneTests } from "./internal/suite/prune.ts"
import { readTests, stopRequestTests } from "./internal/suite/reads.ts"
import { resumeTests } from "./internal/suite/resumes.ts"
import { statusTests } from "./internal/suite/status.ts"
import { storableTests } from "./internal/suite/storable.ts"
import { viewTests } from "./internal/suite/views.ts"

/**
 * Options of a snapshot made by `makeSnapshot`.
 *
 * @since 0.1.0
 * @category fixtures
 */
export type SnapshotOptions = SnapshotOptionsInternal

/**
 * A freshly started deployment (job 0 running with `input`, the others pending), as `Actions` creates one.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const makeSnapshot: (options?: SnapshotOptions) => Snapshot = makeSnapshotInternal

/**
 * What a store under test declares about the optional parts of the contract and its clock (`ownClock`: it judges
 * leases on a clock of its own, such as a database server's), and the suite's timeout.
 *
 * @since 0.1.0
 * @category suites
 */
export type SuiteOptions = SuiteOptionsInternal

/**
 * Registers the conformance tests of the `DeploymentStore` contract against `layer`.
 *
 * @since 0.1.0
 * @category suites
 */
export const DeploymentStoreSuite = <E>(
  name: string,
  layer: Layer.Layer<DeploymentStore, E>,
  options: SuiteOptions = {}
): void => {
  describe(`DeploymentStoreSuite (${name})`, () => {
    layerTest(layer, { excludeTestServices: true, timeout: options.timeout ?? "60 seconds" })((it) => {
      const helpers = helpersFor(options)
      // the parts of the 0.1 contract, one file each in src/internal/suite/
      createTests(it, helpers)
      checkpointTests(it, helpers)
      errorLogTests(it, helpers)
      jobDataTests(it, helpers)
      readTests(it, helpers)
      stopRequestTests(it, helpers)
      leaseTests(it, helpers)
      versionTests(it, helpers)
      capabilityTests(it, helpers, options)
      pruneOlderTests(it, helpers)
      // the parts added with the 0.2 contract
      idempotencyTests(it, helpers)
      resumeTests(it, helpers)
      statusTests(it, helpers)
      pruneTests(it, helpers)
      discardTests(it, helpers)
      storableTests(it, helpers)
      // the parts added with the 0.3 contract: the paused status and the new row fields, operators' operations
      pausedTests(it, helpers)
      operationTests(it, helpers)
      viewTests(it, helpers)
    })
  })
}
