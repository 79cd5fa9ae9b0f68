/**
 * The three ways of running the same 10 no-op steps that `bench/overhead.ts` compares:
 *
 * - `engine`: an effect-actions action of 10 no-op jobs on the memory layer;
 * - `bare`: the same 10 steps as a plain Effect chain doing the engine's per-job schema work;
 * - `workflow`: an `effect/workflow` workflow of 10 activities on `WorkflowEngine.layerMemory`.
 *
 * Every step receives and returns the same small struct, `Step`. Jobs share that one schema object for input and
 * output, so the engine passes a job's encoded output on as the next job's encoded input (no second encode): per
 * job it decodes the input from JSON, runs execute, and encodes the output to JSON. The bare chain does exactly
 * that per step, plus the one encode of the first input.
 */
import { Effect, Latch, Layer, Schema } from "effect"
import { Activity, Workflow, WorkflowEngine } from "effect/workflow"
import { Action, Actions, Job } from "../../src/index.ts"

/** Number of steps (jobs, activities) of one deployment. */
export const stepCount = 10

/** The value every step receives and returns. */
export const Step = Schema.Struct({
  id: Schema.String,
  n: Schema.Number,
  tags: Schema.Array(Schema.String)
})
export type Step = typeof Step.Type

/** A distinct input per deployment (the workflow engine joins executions with equal payloads). */
export const stepInput = (sequence: number): Step => ({ id: `deployment-${sequence}`, n: sequence, tags: ["a", "b"] })

// ---------------------------------------------------------------------------------------------------------------
// engine

const noOpJob = (index: number) =>
  Job.make(`step-${index}`, { input: Step, output: Step, execute: (input) => Effect.succeed(input) })

/** The 10-job action of no-op jobs. */
export const noOpAction = Action.make("no-op-10", [
  noOpJob(0),
  noOpJob(1),
  noOpJob(2),
  noOpJob(3),
  noOpJob(4),
  noOpJob(5),
  noOpJob(6),
  noOpJob(7),
  noOpJob(8),
  noOpJob(9)
])

/**
 * A 10-job action whose first job counts its arrival and then waits on `gate`: used to hold deployments in flight.
 */
export const gatedAction = (gate: Latch.Latch, arrived: { count: number }) => {
  // Defined outside the list: a job made inline in `Action.make`'s list infers `any` requirements.
  const gated = Job.make("gated-step-0", {
    input: Step,
    output: Step,
    execute: (input) =>
      Effect.suspend(() => {
        arrived.count++
        return Effect.as(gate.await, input)
      })
  })
  return Action.make("gated-10", [
    gated,
    noOpJob(1),
    noOpJob(2),
    noOpJob(3),
    noOpJob(4),
    noOpJob(5),
    noOpJob(6),
    noOpJob(7),
    noOpJob(8),
    noOpJob(9)
  ])
}

/** The runtime on the memory store, without the background recovery loop (nothing to recover here). */
export const engineLayer = (): Layer.Layer<Actions.Actions> =>
  // known-good options: an `InvalidOption` here would be a bug of the benchmark
  Actions.layerMemory({ recovery: { enabled: false } }).pipe(Layer.orDie)

// ---------------------------------------------------------------------------------------------------------------
// bare Effect chain

const StepJson = Schema.toCodecJson(Step)
const encodeStep = Schema.encodeEffect(StepJson)
const decodeStep = Schema.decodeUnknownEffect(StepJson)
const noOp = (input: Step): Effect.Effect<Step> => Effect.succeed(input)

/** One step as the engine runs a job: decode the encoded input, execute, encode the output. */
const bareStep = (encoded: unknown): Effect.Effect<unknown, Schema.SchemaError> =>
  decodeStep(encoded).pipe(Effect.flatMap(noOp), Effect.flatMap(encodeStep))

/**
 * The 10 steps as a bare Effect chain. Like the engine's `start`, it first encodes the input and decodes it back
 * (the engine validates what it will persist); then each step decodes, executes and encodes. That is the engine's
 * schema work exactly: 11 encodes and 11 decodes of `Step` per deployment.
 */
export const bareChain = (input: Step): Effect.Effect<unknown, Schema.SchemaError> => {
  let chain: Effect.Effect<unknown, Schema.SchemaError> = encodeStep(input).pipe(
    Effect.flatMap((encoded) => Effect.as(decodeStep(encoded), encoded))
  )
  for (let index = 0; index < stepCount; index++) chain = Effect.flatMap(chain, bareStep)
  return chain
}

// ---------------------------------------------------------------------------------------------------------------
// effect/workflow

/** The 10-activity workflow; its idempotency key is the input's id, so each distinct input is a new execution. */
export const NoOpWorkflow = Workflow.make("no-op-10", {
  payload: Step,
  success: Step,
  idempotencyKey: (payload) => payload.id
})

/**
 * One activity, made inline in the workflow body as effect/workflow's documentation does (the value an activity
 * works on can only reach it through its closure).
 */
const noOpActivity = (index: number, value: Step) =>
  Activity.make({ name: `step-${index}`, success: Step, execute: Effect.succeed(value) })

type InWorkflow = WorkflowEngine.WorkflowInstance | WorkflowEngine.WorkflowEngine

/** The workflow body: `first` (the first activity), then activities 1 to 9, each given the previous value. */
const runActivities = (payload: Step, first: (value: Step) => Effect.Effect<Step, never, InWorkflow>) =>
  Effect.gen(function*() {
    let value = yield* first(payload)
    for (let index = 1; index < stepCount; index++) value = yield* noOpActivity(index, value)
    return value
  })

/** Registers the 10-activity workflow's handler. */
export const noOpWorkflowHandler: Layer.Layer<never, never, WorkflowEngine.WorkflowEngine> = NoOpWorkflow.toLayer(
  (payload) => runActivities(payload, (value) => noOpActivity(0, value))
)

/** The same workflow, whose first activity counts its arrival and then waits on `gate`. */
export const GatedWorkflow = Workflow.make("gated-10", {
  payload: Step,
  success: Step,
  idempotencyKey: (payload) => payload.id
})

/** Registers the gated workflow's handler. */
export const gatedWorkflowHandler = (
  gate: Latch.Latch,
  arrived: { count: number }
): Layer.Layer<never, never, WorkflowEngine.WorkflowEngine> =>
  GatedWorkflow.toLayer((payload) =>
    runActivities(payload, (value) =>
      Activity.make({
        name: "gated-step-0",
        success: Step,
        execute: Effect.suspend(() => {
          arrived.count++
          return Effect.as(gate.await, value)
        })
      }))
  )

/** The in-memory workflow engine with the given handlers registered (the 10-activity workflow by default). */
export const workflowLayer = (
  handlers: Layer.Layer<never, never, WorkflowEngine.WorkflowEngine> = noOpWorkflowHandler
): Layer.Layer<WorkflowEngine.WorkflowEngine> => handlers.pipe(Layer.provideMerge(WorkflowEngine.layerMemory))
