/**
 * Stored deployments written straight into a store, as another process (or an older release, or an operator) would
 * have left them, for resume and fault tests.
 */
import type { Action, DeploymentStore } from "effect-actions"

/** A stored deployment of `action`, written straight into the store, as another process would have left it. */
export const storedDeployment = (
  action: Action.Any,
  fields: Partial<DeploymentStore.DeploymentRow>,
  jobs: ReadonlyArray<DeploymentStore.JobRunRow>
): DeploymentStore.Snapshot => ({
  deployment: {
    id: crypto.randomUUID(),
    application: "default",
    action: action.name,
    key: undefined,
    fingerprint: action.fingerprint,
    status: "running",
    currentJob: 0,
    state: undefined,
    output: undefined,
    failure: undefined,
    owner: "gone",
    leaseEpoch: 1,
    leaseExpiresAt: 0,
    stopRequested: false,
    resumes: 0,
    parked: undefined,
    restartOf: undefined,
    request: undefined,
    createdAt: 0,
    updatedAt: 0,
    ...fields
  },
  jobs
})

export const jobRow = (
  index: number,
  name: string,
  status: DeploymentStore.JobRunRow["status"],
  output?: DeploymentStore.Json
): DeploymentStore.JobRunRow => ({
  index,
  name,
  status,
  input: status === "pending" ? undefined : { n: index },
  output,
  attempts: status === "pending" ? 0 : 1,
  startedAt: status === "pending" ? undefined : 0,
  finishedAt: undefined
})
