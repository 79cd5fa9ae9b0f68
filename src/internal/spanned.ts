/**
 * Running an effect in a span of the runtime (`effect-actions.deployment`, `effect-actions.job`), in one fiber step:
 * the span is opened, and made the parent span and the stack frame of what runs in it; log annotations (and, for
 * a job, the registration's services) are added to the fiber's context; all of it is undone in one exit hook.
 *
 * It means what `Effect.withSpan(name, { attributes })` followed by `Effect.annotateLogs(annotations)` and
 * `Effect.provideContext(context)` mean, and costs about half their fiber steps (`docs/benchmarks.md`).
 *
 * @internal
 */
import { Context, Effect, type Fiber, References, Tracer } from "effect"

/** What `spanned` opens and adds. */
export interface SpannedOptions {
  readonly name: string
  readonly attributes: Record<string, unknown>
  readonly annotations: Record<string, unknown>
  /** Services added under the span (after the fiber's own, before the span's parent span and annotations). */
  readonly context?: Context.Context<never>
}

const noStack = (): string | undefined => undefined

const contextIn = (outer: Context.Context<never>, span: Tracer.Span, options: SpannedOptions): Context.Context<never> => {
  const annotations = Context.get(outer, References.CurrentLogAnnotations)
  const frame = Context.get(outer, References.CurrentStackFrame)
  const base = options.context === undefined ? outer : Context.merge(outer, options.context)
  return base.pipe(
    Context.add(Tracer.ParentSpan, span),
    Context.add(References.CurrentStackFrame, { name: options.name, stack: noStack, parent: frame }),
    Context.add(References.CurrentLogAnnotations, { ...annotations, ...options.annotations })
  )
}

/**
 * Runs the effect `body` builds in a new span. `body` is called with the fiber before the span's context is set,
 * and with `atEnd`, which registers what to call when the effect ends, however it ends.
 */
export const spanned = <A, E>(
  options: SpannedOptions,
  body: (fiber: Fiber.Fiber<unknown, unknown>, atEnd: (end: () => void) => void) => Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  Effect.useSpan(options.name, { attributes: options.attributes }, (span) =>
    Effect.withFiber((fiber) => {
      const outer = fiber.context
      let end: (() => void) | undefined
      const effect = body(fiber, (f) => {
        end = f
      })
      fiber.setContext(contextIn(outer, span, options))
      return Effect.onExitPrimitive(effect, () => {
        fiber.setContext(outer)
        end?.()
        return undefined
      })
    }))
