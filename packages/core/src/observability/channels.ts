import { subscribe, unsubscribe } from 'node:diagnostics_channel'

/** The ccflow packages that publish on `node:diagnostics_channel`. */
export type ChannelComponent = 'issuer' | 'guard' | 'client'

// A topic is lowercase words joined by '-', in ':'-separated levels: `event`, `request:start`.
const TOPIC = /^[a-z]+(?:-[a-z]+)*(?::[a-z]+(?:-[a-z]+)*)*$/

/**
 * The name of a ccflow diagnostics channel: `ccflow:<component>:<topic>`, for example
 * `ccflow:issuer:event` or `ccflow:issuer:request:end`. The module prefix and the colons follow
 * the Node.js convention for public channels (`undici:request:create`, and the
 * `tracing:<name>:start` family of tracing channels), so that a name never collides with another
 * library's. A timed operation has a `<topic>:start` and a `<topic>:end` channel.
 *
 * @throws {TypeError} When `topic` is not lowercase words joined by `-`, in `:`-separated levels.
 */
export function channelName(component: ChannelComponent, topic: string): string {
  if (!TOPIC.test(topic)) throw new TypeError(`channelName: invalid topic ${JSON.stringify(topic)}`)
  return `ccflow:${component}:${topic}`
}

/** A subscriber of one channel, as `node:diagnostics_channel` calls it. */
export type ChannelHandler = (message: unknown, name: string | symbol) => void

/**
 * Subscribes each handler to the channel it is listed under, through
 * `diagnostics_channel.subscribe` (which keeps the channel alive), and returns a function that
 * unsubscribes them all; calling it again does nothing.
 *
 * A handler that throws is isolated: a diagnostics channel rethrows a subscriber's error as an
 * uncaught exception on the next tick, which would take the server down for a metrics bug. The
 * error is dropped instead, and reported once per subscription set as a process warning with
 * code `CCFLOW_OBSERVER_ERROR`.
 */
export function subscribeChannels(handlers: Readonly<Record<string, ChannelHandler>>): () => void {
  let warned = false
  const subscribed = Object.entries(handlers).map(([name, handler]): [string, ChannelHandler] => {
    const safe: ChannelHandler = (message, channel) => {
      try {
        handler(message, channel)
      } catch (error) {
        if (warned) return
        warned = true
        process.emitWarning(
          `a ccflow observer failed on ${String(channel)}: ${error instanceof Error ? error.message : String(error)}`,
          { code: 'CCFLOW_OBSERVER_ERROR' },
        )
      }
    }
    subscribe(name, safe)
    return [name, safe]
  })
  let active = true
  return () => {
    if (!active) return
    active = false
    for (const [name, safe] of subscribed) unsubscribe(name, safe)
  }
}
