import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'

/**
 * Makes `owner` answer the snapshot requests published on channel `name` for as long as it is
 * alive: each request (an array, see {@link collectSnapshots}) gets `read(owner)` pushed onto it.
 *
 * This is how a gauge reads state that lives in objects the metrics adapter never sees (the
 * signing keys of every token endpoint in the process, the key set of every guard), across the
 * ESM and CJS builds, whichever was created first. Only a weak reference to `owner` is kept: a
 * discarded router or guard is garbage-collected, and its reader unsubscribes itself at the next
 * collection. A reader that throws is skipped.
 */
export function provideSnapshots<O extends object, S>(
  name: string,
  owner: O,
  read: (owner: O) => S,
): void {
  const ref = new WeakRef(owner)
  const reader = (message: unknown): void => {
    const alive = ref.deref()
    if (alive === undefined) {
      // Safe inside a publish: the channel copies its subscriber list on unsubscribe.
      unsubscribe(name, reader)
      return
    }
    if (!Array.isArray(message)) return
    try {
      message.push(read(alive))
    } catch {
      // A snapshot is best effort: a failing reader must not break the scrape or the publisher.
    }
  }
  subscribe(name, reader)
}

/** Asks every live provider on channel `name` for its snapshot (see {@link provideSnapshots}). */
export function collectSnapshots<S>(name: string): S[] {
  const snapshots: S[] = []
  const ch = channel(name)
  if (ch.hasSubscribers) ch.publish(snapshots)
  return snapshots
}
