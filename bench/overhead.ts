/**
 * Engine overhead benchmark: what effect-actions costs on top of the work a deployment does.
 *
 * What it measures: one deployment of an action of 10 no-op jobs (input and output: a small struct,
 * `{ id: string, n: number, tags: string[] }`) on the memory layer, against
 * - the bare chain: the same 10 steps as a plain Effect chain doing the engine's schema work (per step: decode
 *   the JSON input, run the no-op, encode the output to JSON; 11 encodes and 11 decodes per deployment, as the
 *   engine does), with no persistence, fibers, spans or rollbacks;
 * - effect/workflow: a workflow of 10 activities doing the same no-op with the same success schema, run on
 *   `WorkflowEngine.layerMemory`.
 * The engine's own overhead is the difference: records and checkpoints in the memory store, the deployment's
 * fiber, scope and rollback finalizers, spans, job context.
 *
 * Method: warm-up rounds, then interleaved rounds (bare, engine, workflow, bare, engine, workflow, ...), each
 * running a few thousand deployments one after another on a fresh layer (ten times more for the bare chain, whose
 * rounds would otherwise last a few milliseconds); the figure of a variant is the median over rounds of its mean
 * time per deployment. Interleaving and medians make the figures usable on a shared,
 * noisy machine. Then heap per in-flight deployment: 10,000 concurrent deployments whose first job (activity)
 * blocks on a latch; the heap after a full GC, minus the heap before they started, divided by 10,000.
 *
 * How to read it: `µs/deployment` is the wall-clock time of one deployment (median over rounds, with the p25 and
 * p75 of the rounds); `engine ÷ variant` is the ratio of medians. The targets are engine ≤ 3 × bare chain and
 * engine < effect/workflow; next to each target ratio, the p25–p75 range of the per-round ratios shows how stable
 * it was. `Effect ops/deployment` counts the Effect operations the runtime evaluated per deployment (counted by
 * the scheduler): deterministic, so it does not move with machine noise, and it tracks where time goes. The heap
 * table gives bytes per in-flight deployment, and what the memory layer still keeps per finished deployment.
 *
 * Run: `npm run bench`. Settings (environment): BENCH_ROUNDS (20), BENCH_DEPLOYMENTS per round (2000),
 * BENCH_WARMUP rounds (2), BENCH_IN_FLIGHT concurrent deployments for the heap figure (10000).
 */
import { Effect, Latch, Layer, Option } from "effect"
import { Actions } from "../src/index.ts"
import {
  bareChain,
  engineLayer,
  gatedAction,
  GatedWorkflow,
  gatedWorkflowHandler,
  noOpAction,
  NoOpWorkflow,
  noOpWorkflowHandler,
  type Step,
  stepCount,
  stepInput,
  workflowLayer
} from "./support/fixtures.ts"
import {
  type HeapPerUnit,
  heldInFlight,
  median,
  operationsPerUnit,
  quantile,
  timeSequential
} from "./support/measure.ts"
import { describeMachine, fixed, machine, table, whole } from "./support/report.ts"

const setting = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return Number.isInteger(value) && value > 0 ? value : fallback
}

const settings = {
  rounds: setting("BENCH_ROUNDS", 20),
  deployments: setting("BENCH_DEPLOYMENTS", 2000),
  warmup: setting("BENCH_WARMUP", 2),
  inFlight: setting("BENCH_IN_FLIGHT", 10_000)
}

let sequence = 0
/** A distinct input for every deployment of the process. */
const nextInput = (): Step => stepInput(sequence++)

// ---------------------------------------------------------------------------------------------------------------
// variants: a run builds a fresh environment and times `count` sequential deployments in it

interface Variant {
  readonly name: string
  /** Deployments of a round, as a multiple of BENCH_DEPLOYMENTS (short rounds are more exposed to noise). */
  readonly roundScale: number
  /** Mean wall-clock time of one deployment over `count` sequential deployments, in microseconds. */
  readonly run: (count: number) => Effect.Effect<number, unknown>
  /** Runs one deployment and returns its output, to check that the variant does what it should. */
  readonly once: (input: Step) => Effect.Effect<unknown, unknown>
}

const bare: Variant = {
  name: "bare Effect chain (same schema work)",
  roundScale: 10,
  run: (count) => timeSequential(count, () => bareChain(nextInput())),
  once: bareChain
}

const engine: Variant = {
  name: "effect-actions, memory layer",
  roundScale: 1,
  run: (count) =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      yield* actions.register(noOpAction)
      return yield* timeSequential(count, () => actions.execute(noOpAction, nextInput()))
    }).pipe(Effect.provide(engineLayer())),
  once: (input) =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      yield* actions.register(noOpAction)
      return (yield* actions.execute(noOpAction, input)).output
    }).pipe(Effect.provide(engineLayer()))
}

const workflow: Variant = {
  name: "effect/workflow, WorkflowEngine.layerMemory",
  roundScale: 1,
  run: (count) =>
    timeSequential(count, () => NoOpWorkflow.execute(nextInput())).pipe(Effect.provide(workflowLayer())),
  once: (input) => NoOpWorkflow.execute(input).pipe(Effect.provide(workflowLayer()))
}

const variants: ReadonlyArray<Variant> = [bare, engine, workflow]

/** Fails loudly when a variant does not return its input's value (a benchmark of failures measures nothing). */
const checkVariants = async (): Promise<void> => {
  for (const variant of variants) {
    const input = nextInput()
    const output = await Effect.runPromise(variant.once(input))
    const id = typeof output === "object" && output !== null && "id" in output ? output.id : undefined
    if (id !== input.id) throw new Error(`${variant.name}: unexpected output ${JSON.stringify(output)}`)
  }
}

const progress = (text: string): void => {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`)
}

/** One round of a variant: µs per deployment. */
const round = (variant: Variant): Promise<number> =>
  Effect.runPromise(variant.run(settings.deployments * variant.roundScale))

/** Warm-up rounds, then interleaved rounds; returns each variant's per-round samples (µs per deployment). */
const runRounds = async (): Promise<Map<Variant, Array<number>>> => {
  const samples = new Map(variants.map((variant) => [variant, [] as Array<number>]))
  for (let index = 0; index < settings.warmup; index++) {
    progress(`warm-up ${index + 1}/${settings.warmup}   `)
    for (const variant of variants) await round(variant)
  }
  for (let index = 0; index < settings.rounds; index++) {
    progress(`round ${index + 1}/${settings.rounds}   `)
    for (const variant of variants) samples.get(variant)!.push(await round(variant))
  }
  progress("")
  return samples
}

/** Effect operations evaluated per deployment, for each variant. */
const countOperations = async (): Promise<Map<Variant, number>> => {
  const counts = new Map<Variant, number>()
  for (const variant of variants) counts.set(variant, await operationsPerUnit(200, variant.run))
  return counts
}

// ---------------------------------------------------------------------------------------------------------------
// heap per in-flight deployment

/** Heap per engine deployment held in flight (first job blocked), and kept once finished. */
const engineHeap = (count: number): Promise<HeapPerUnit> => {
  const gate = Latch.makeUnsafe(false)
  const arrived = { count: 0 }
  const action = gatedAction(gate, arrived)
  return Effect.gen(function*() {
    const actions = yield* Actions.Actions
    yield* actions.register(noOpAction)
    yield* actions.register(action)
    // Deployments before the baseline, so that what is built once (codecs, caches) is not counted.
    for (let index = 0; index < 100; index++) yield* actions.execute(noOpAction, nextInput())
    return yield* heldInFlight(count, {
      start: () => actions.start(action, nextInput()),
      arrived: () => arrived.count,
      release: Effect.asVoid(gate.open),
      await: (id) => actions.awaitById(id)
    })
  }).pipe(Effect.provide(engineLayer()), Effect.runPromise)
}

/** Heap per workflow execution held in flight (first activity blocked), and kept once finished. */
const workflowHeap = (count: number): Promise<HeapPerUnit> => {
  const gate = Latch.makeUnsafe(false)
  const arrived = { count: 0 }
  const awaitDone = (executionId: string) =>
    Effect.gen(function*() {
      while (Option.isNone(yield* GatedWorkflow.poll(executionId))) yield* Effect.sleep("1 millis")
    })
  return Effect.gen(function*() {
    for (let index = 0; index < 100; index++) yield* NoOpWorkflow.execute(nextInput())
    return yield* heldInFlight(count, {
      start: () => GatedWorkflow.execute(nextInput(), { discard: true }),
      arrived: () => arrived.count,
      release: Effect.asVoid(gate.open),
      await: awaitDone
    })
  }).pipe(
    Effect.provide(workflowLayer(Layer.merge(noOpWorkflowHandler, gatedWorkflowHandler(gate, arrived)))),
    Effect.runPromise
  )
}

// ---------------------------------------------------------------------------------------------------------------
// report

const verdict = (met: boolean): string => (met ? "met" : "MISSED")

const timeTable = (samples: Map<Variant, Array<number>>, operations: Map<Variant, number>): string => {
  const engineMedian = median(samples.get(engine)!)
  return table(
    [
      { title: "variant" },
      { title: "µs/deployment (median)", numeric: true },
      { title: "p25", numeric: true },
      { title: "p75", numeric: true },
      { title: "µs/step", numeric: true },
      { title: "engine ÷ variant", numeric: true },
      { title: "Effect ops/deployment", numeric: true }
    ],
    variants.map((variant) => {
      const xs = samples.get(variant)!
      return [
        variant.name,
        fixed(median(xs)),
        fixed(quantile(xs, 0.25)),
        fixed(quantile(xs, 0.75)),
        fixed(median(xs) / stepCount, 2),
        fixed(engineMedian / median(xs), 2),
        whole(operations.get(variant)!)
      ]
    })
  )
}

/** The ratio of medians, with the p25–p75 range of the per-round ratios. */
const ratio = (samples: Map<Variant, Array<number>>, other: Variant) => {
  const engineSamples = samples.get(engine)!
  const otherSamples = samples.get(other)!
  const perRound = engineSamples.map((value, index) => value / otherSamples[index]!)
  return {
    value: median(engineSamples) / median(otherSamples),
    range: `${fixed(quantile(perRound, 0.25), 2)}–${fixed(quantile(perRound, 0.75), 2)}`
  }
}

const targetLines = (samples: Map<Variant, Array<number>>): string => {
  const toBare = ratio(samples, bare)
  const toWorkflow = ratio(samples, workflow)
  return [
    `engine ÷ bare chain      = ${fixed(toBare.value, 2)} (per round ${toBare.range})   target ≤ 3   ${
      verdict(toBare.value <= 3)
    }`,
    `engine ÷ effect/workflow = ${fixed(toWorkflow.value, 2)} (per round ${toWorkflow.range})   target < 1   ${
      verdict(toWorkflow.value < 1)
    }`
  ].join("\n")
}

const heapRow = (variant: Variant, heap: HeapPerUnit): Array<string> => [
  variant.name,
  whole(heap.inFlight),
  fixed((heap.inFlight * settings.inFlight) / 2 ** 20),
  whole(heap.finished)
]

const heapTable = (engineHeap: HeapPerUnit, workflowHeap: HeapPerUnit): string =>
  table(
    [
      { title: "variant" },
      { title: "bytes per in-flight deployment", numeric: true },
      { title: `MiB for ${whole(settings.inFlight)}`, numeric: true },
      { title: "bytes kept per finished deployment", numeric: true }
    ],
    [heapRow(engine, engineHeap), heapRow(workflow, workflowHeap)]
  )

const main = async (): Promise<void> => {
  console.log(`Engine overhead: ${stepCount} no-op jobs per deployment, memory store\n`)
  console.log(describeMachine(machine()))
  console.log(
    `method:  ${settings.warmup} warm-up rounds, then ${settings.rounds} interleaved rounds (bare, engine, workflow) ` +
      `of ${whole(settings.deployments)} sequential deployments each (the bare chain: ` +
      `${whole(settings.deployments * bare.roundScale)}); medians over rounds\n`
  )
  await checkVariants()
  const samples = await runRounds()
  const operations = await countOperations()
  console.log(`${timeTable(samples, operations)}\n`)
  console.log(`${targetLines(samples)}\n`)
  console.log(
    `Heap per deployment: ${whole(settings.inFlight)} concurrent, first step blocked, after full GC; ` +
      `then what the memory layer keeps once they finished\n`
  )
  const engineBytes = await engineHeap(settings.inFlight)
  const workflowBytes = await workflowHeap(settings.inFlight)
  console.log(heapTable(engineBytes, workflowBytes))
}

await main()
