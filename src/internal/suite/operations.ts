/**
 * Conformance tests: the operators' operations of the 0.3 contract, by part: `takeOver` (`takeOver.ts`), requested
 * operations and the history (`requests.ts`), and values no store can hold, written by the operations
 * (`operationValues.ts`). (The `paused` status itself is `paused.ts`'s.)
 *
 * @internal
 */
import type { Helpers, SuiteIt } from "./fixtures.ts"
import { operationValueTests } from "./operationValues.ts"
import { historyTests, requestTests } from "./requests.ts"
import { takeOverTests } from "./takeOver.ts"

export const operationTests = (it: SuiteIt, helpers: Helpers): void => {
  takeOverTests(it, helpers)
  requestTests(it, helpers)
  historyTests(it, helpers)
  operationValueTests(it, helpers)
}
