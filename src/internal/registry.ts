/**
 * The actions a runtime can run: its registrations by `(application, action)` pair, and the lookups of `start`,
 * `startByName`, recovery and the operators' operations.
 *
 * `register` captures the services of its caller (without the call's own span and scope), so that a deployment
 * started or resumed later in the background runs with them.
 *
 * @internal
 */
import { Context, Effect, Scope, Tracer } from "effect"
import * as Action from "../Action.ts"
import { ActionAlreadyRegistered, ActionNotFound } from "../ActionError.ts"
import type { DeploymentRow, Runnable } from "../DeploymentStore.ts"
import { compile, type Registration, registrationKey } from "./registration.ts"
import * as Validate from "./validate.ts"

/** The application an action is registered for when none is given. */
export const defaultApplication = "default"

/** The registration of `action` among `registrations`, for the application given, or the only one it has. */
const lookupIn = (
  registrations: ReadonlyMap<string, Registration>,
  byAction: ReadonlyMap<Action.Any, ReadonlyArray<Registration>>,
  action: Action.Any,
  application: string | undefined
): Effect.Effect<Registration, ActionNotFound> => {
  if (application !== undefined) {
    const reg = registrations.get(registrationKey(application, action.name))
    if (reg === undefined) return Effect.fail(new ActionNotFound({ application, action: action.name }))
    if (reg.action !== action) {
      return Effect.fail(
        new ActionNotFound({
          application,
          action: action.name,
          detail: "another definition of this action is registered for the application"
        })
      )
    }
    return Effect.succeed(reg)
  }
  const regs = byAction.get(action) ?? []
  if (regs.length === 1) return Effect.succeed(regs[0]!)
  return Effect.fail(
    new ActionNotFound({
      application: "(any)",
      action: action.name,
      ...(regs.length > 1
        ? { detail: `registered for several applications (${regs.map((r) => r.application).join(", ")}): pass one` }
        : {})
    })
  )
}

/** Builds an empty registry. */
export const makeRegistry = () => {
  const registrations = new Map<string, Registration>()
  const byAction = new Map<Action.Any, Array<Registration>>()

  /** The registration of `action`, for the application given, or the only one it has. */
  const lookup = (action: Action.Any, application: string | undefined): Effect.Effect<Registration, ActionNotFound> =>
    Effect.suspend(() => lookupIn(registrations, byAction, action, application))

  /** The registration of a pair of names, for the untyped entry points. */
  const lookupByName = (ref: { readonly application: string; readonly action: string }) =>
    Effect.suspend((): Effect.Effect<Registration, ActionNotFound> => {
      const reg = registrations.get(registrationKey(ref.application, ref.action))
      return reg === undefined ? Effect.fail(new ActionNotFound(ref)) : Effect.succeed(reg)
    })

  const register = <A extends Action.Any>(action: A, registerOptions?: { readonly application?: string }) =>
    Effect.gen(function*() {
      const checked = yield* Validate.registerArguments(action, registerOptions)
      yield* Action.validate(action)
      const application = checked.application ?? defaultApplication
      const key = registrationKey(application, action.name)
      if (registrations.has(key)) return yield* new ActionAlreadyRegistered({ application, action: action.name })
      // The services of the caller, without what belongs to the call itself: its span (a job's spans are the
      // deployment's) and its scope (a deployment outlives the call).
      const context = Context.omit(Tracer.ParentSpan, Scope.Scope)(yield* Effect.context<Action.Services<A>>())
      const reg = yield* compile(application, action, context as Context.Context<never>)
      registrations.set(key, reg)
      byAction.set(action, [...(byAction.get(action) ?? []), reg])
      yield* Effect.logDebug(`registered action "${action.name}" for application "${application}"`)
    })

  /** The registration of an `(application, action)` pair, whatever its definition. */
  const registrationFor = (application: string, action: string): Registration | undefined =>
    registrations.get(registrationKey(application, action))

  /** The registration that can run this stored deployment: the same pair and the same definition. */
  const registrationOf = (row: Pick<DeploymentRow, "application" | "action" | "fingerprint">) => {
    const reg = registrationFor(row.application, row.action)
    return reg !== undefined && reg.action.fingerprint === row.fingerprint ? reg : undefined
  }

  /** What this runtime can run, as the store's claims filter by it. */
  const runnable = (): ReadonlyArray<Runnable> =>
    [...registrations.values()].map((reg) => ({
      application: reg.application,
      action: reg.action.name,
      fingerprint: reg.action.fingerprint
    }))

  /** Whether `action` is registered for `application`. */
  const isRegistered = (action: Action.Any, application: string): boolean =>
    byAction.get(action)?.some((reg) => reg.application === application) === true

  return {
    register,
    lookup,
    lookupByName,
    registrationFor,
    registrationOf,
    runnable,
    isRegistered,
    get size() {
      return registrations.size
    }
  }
}

/** A runtime's registry. */
export type Registry = ReturnType<typeof makeRegistry>
