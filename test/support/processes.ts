/**
 * Simulated processes over one shared store, for resume and lease tests on the memory layer.
 *
 * Each process has its own `Actions` service and its own connection to the shared store; cutting the connection
 * makes every store call of that process fail as if the database were unreachable, so closing the process
 * afterwards is a crash: nothing is written, no lease is released.
 */
import { Effect, Exit, Scope } from "effect"
import { Actions, ActionError, DeploymentStore } from "effect-actions"

/** A store connection that can be cut. */
export interface Connection {
  readonly store: DeploymentStore.DeploymentStoreShape
  readonly cut: () => void
  readonly restore: () => void
}

export const connect = (
  inner: DeploymentStore.DeploymentStoreShape,
  options: { readonly withoutStopNotifications?: boolean } = {}
): Connection => {
  let cut = false
  const guard = <A, E, R>(operation: string, effect: () => Effect.Effect<A, E, R>) =>
    Effect.suspend((): Effect.Effect<A, E | ActionError.PersistenceError, R> =>
      cut
        ? Effect.fail(new ActionError.PersistenceError({ reason: "connection", operation, detail: "connection cut by the test" }))
        : effect()
    )
  // Operations are cut; the stream of stop requests (not an operation) is passed through.
  const store = Object.fromEntries(
    Object.entries(inner).filter(([name]) => !(options.withoutStopNotifications === true && name === "stopRequests")).map((
      [name, member]
    ) => [
      name,
      typeof member === "function"
        ? (...args: Array<unknown>) => guard(name, () => (member as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args))
        : member
    ])
  ) as unknown as DeploymentStore.DeploymentStoreShape
  return { store, cut: () => void (cut = true), restore: () => void (cut = false) }
}

/** A simulated process: an `Actions` service in its own scope, on its own connection. */
export interface Process {
  readonly actions: Actions.ActionsShape
  readonly connection: Connection
  /** Ends the process as a crash: its connection is cut first, so it writes nothing on the way out. */
  readonly crash: Effect.Effect<void>
  /** Ends the process gracefully. */
  readonly shutdown: Effect.Effect<void>
}

export const startProcess = (
  inner: DeploymentStore.DeploymentStoreShape,
  owner: string,
  options: Actions.Options & { readonly withoutStopNotifications?: boolean } = {}
): Effect.Effect<Process> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const connection = connect(inner, options)
    const actions = yield* Actions.make({ owner, ...options, recovery: { enabled: false, ...options.recovery } }).pipe(
      Effect.provideService(DeploymentStore.DeploymentStore, connection.store),
      Scope.provide(scope),
      Effect.orDie // the tests' options are known-good
    )
    return {
      actions,
      connection,
      crash: Effect.suspend(() => {
        connection.cut()
        return Scope.close(scope, Exit.void)
      }),
      shutdown: Scope.close(scope, Exit.void)
    }
  })
