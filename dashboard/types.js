// @ts-check
/**
 * The JSON the page reads from the operator API (`OperatorApi`'s views), as JSDoc types for `tsc -p dashboard`.
 * This module has no code: the others import its types with `import("./types.js")`.
 *
 * @since 0.3.0
 */

/**
 * @typedef {null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }} Json
 */

/**
 * @typedef {object} Failure
 * @property {string} job
 * @property {number} jobIndex
 * @property {string} phase
 * @property {string} tag
 * @property {string} message
 * @property {Json} [detail]
 */

/**
 * @typedef {object} OperationRequest
 * @property {string} operation
 * @property {string} by
 * @property {string} at
 */

/**
 * @typedef {object} Summary
 * @property {string} id
 * @property {string} application
 * @property {string} action
 * @property {string} [key]
 * @property {string} status
 * @property {number} currentJob
 * @property {Json} [state]
 * @property {Json} [output]
 * @property {Failure} [failure]
 * @property {string} [owner]
 * @property {boolean} stopRequested
 * @property {number} resumes
 * @property {{ field: string, issue: string }} [parked]
 * @property {string} [restartOf]
 * @property {OperationRequest} [request]
 * @property {string} createdAt
 * @property {string} updatedAt
 */

/**
 * @typedef {object} JobRun
 * @property {number} index
 * @property {string} name
 * @property {string} status
 * @property {Json} [input]
 * @property {Json} [output]
 * @property {number} attempts
 * @property {string} [startedAt]
 * @property {string} [finishedAt]
 * @property {string} [rollbackStartedAt]
 * @property {string} [rollbackFinishedAt]
 * @property {ReadonlyArray<AttemptRun>} [earlierAttempts] the attempts before the last one, in order
 */

/**
 * @typedef {object} AttemptRun
 * @property {number} attempt
 * @property {string} startedAt
 * @property {string} [finishedAt] absent when the attempt was cut short (its process died)
 */

/**
 * @typedef {object} HistoryEntry
 * @property {number} sequence
 * @property {string} operation
 * @property {string} outcome
 * @property {string} by
 * @property {string} at
 * @property {string} [reason]
 * @property {string} [job]
 * @property {string} [message]
 */

/**
 * @typedef {Summary & { jobs: ReadonlyArray<JobRun>, history: ReadonlyArray<HistoryEntry> }} Deployment
 */

/**
 * @typedef {object} ErrorEntry
 * @property {number} sequence
 * @property {string} [job]
 * @property {string} phase
 * @property {string} tag
 * @property {string} message
 * @property {Json} [detail]
 * @property {string} at
 */

/**
 * @typedef {object} JobDataEntry
 * @property {string} job
 * @property {string} key
 * @property {Json} value
 */

/**
 * @typedef {object} Receipt
 * @property {string} deploymentId
 * @property {string} operation
 * @property {"done" | "requested"} outcome
 * @property {string} [restartedAs]
 */

/**
 * @typedef {object} BulkResult
 * @property {number} matched
 * @property {ReadonlyArray<string>} ids
 * @property {ReadonlyArray<{ deploymentId: string, outcome: "done" | "requested" | "refused", message?: string }>} items
 */

export {}
