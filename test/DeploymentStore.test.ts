import { DeploymentStore } from "effect-actions"
import { DeploymentStoreSuite } from "effect-actions/testing"

DeploymentStoreSuite("memory", DeploymentStore.layerMemory, { stopNotifications: true })
