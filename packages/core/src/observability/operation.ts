import { channel, type Channel } from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'
import { channelName, type ChannelComponent } from './channels.js'

/**
 * A timed step of an operation: client authentication, a rate limiter, signing, a store call.
 * Times are `performance.now()` milliseconds; {@link epochMilliseconds} converts them.
 */
export interface OperationPhase<N extends string = string> {
  /** The step, from the publishing package's fixed list. */
  readonly name: N
  /** A detail from a fixed vocabulary (which limiter, which store call), or `undefined`. */
  readonly detail: string | undefined
  /** `performance.now()` when the step began. */
  readonly startTime: number
  /** `performance.now()` when it ended; `undefined` while it runs. */
  endTime: number | undefined
  /** Whether it ended in a refusal or an error rather than handing on. */
  failed: boolean
}

/**
 * What a timed operation publishes: the same object on its `:start` channel (when it begins)
 * and, completed, on its `:end` channel, so a subscriber can keep what it started (a span) in a
 * `WeakMap` keyed by the message. Packages extend it with their own fields.
 */
export interface OperationMessage<N extends string = string> {
  /** `performance.now()` when the operation began. */
  readonly startTime: number
  /** `performance.now()` when it ended; `undefined` until the `:end` message. */
  endTime: number | undefined
  /**
   * The steps, in the order they began: recorded only while something listens on the `:start`
   * channel (a tracer, which turns them into child spans); otherwise the shared empty
   * {@link UNTIMED_PHASES}, so that an operation observed only for its outcome (metrics) reads
   * no clock and allocates nothing per step.
   */
  readonly phases: OperationPhase<N>[]
}

/**
 * The `phases` of an operation whose steps are not timed (see {@link phaseListFor}): frozen and
 * empty; {@link beginPhase} records nothing in it.
 */
export const UNTIMED_PHASES: OperationPhase<never>[] = Object.freeze(
  [],
) as unknown as OperationPhase<never>[]

/**
 * The `phases` list of a new operation: a fresh array when its steps are timed (something
 * listens on `:start`), else {@link UNTIMED_PHASES}. Read it when the operation begins.
 */
export function phaseListFor<N extends string>(channels: OperationChannels): OperationPhase<N>[] {
  return channels.start.hasSubscribers ? [] : UNTIMED_PHASES
}

/** The `:start` and `:end` channels of one kind of operation. */
export interface OperationChannels {
  /** `ccflow:<component>:<topic>:start`. */
  readonly start: Channel
  /** `ccflow:<component>:<topic>:end`. */
  readonly end: Channel
}

/**
 * The channel pair of an operation, `ccflow:<component>:<topic>:start` and `…:end`. Call it once,
 * at module level: the hot path then only reads `hasSubscribers` (see {@link isOperationObserved}).
 */
export function operationChannels(component: ChannelComponent, topic: string): OperationChannels {
  return Object.freeze({
    start: channel(channelName(component, `${topic}:start`)),
    end: channel(channelName(component, `${topic}:end`)),
  })
}

/**
 * Whether anything listens to the operation. Read it once when the operation begins and build
 * no message (take no time) when it is `false`: that is what keeps an unobserved request free.
 */
export function isOperationObserved(channels: OperationChannels): boolean {
  return channels.start.hasSubscribers || channels.end.hasSubscribers
}

/** Publishes `message` on the `:start` channel, if anything listens there. */
export function publishStart(channels: OperationChannels, message: OperationMessage): void {
  if (channels.start.hasSubscribers) channels.start.publish(message)
}

/**
 * Ends the operation now (unless `endTime` is already set), closes any step still running as
 * failed (it never handed on: a limiter answered 429 itself, or the client went away), and
 * publishes the message on the `:end` channel.
 */
export function publishEnd(channels: OperationChannels, message: OperationMessage): void {
  const end = (message.endTime ??= performance.now())
  for (const phase of message.phases) {
    if (phase.endTime === undefined) {
      phase.endTime = end
      phase.failed = true
    }
  }
  if (channels.end.hasSubscribers) channels.end.publish(message)
}

/**
 * Starts a step of `message` now and returns it, for {@link endPhase}; `undefined` (and no
 * clock read) when the operation's steps are not timed.
 */
export function beginPhase<N extends string>(
  message: OperationMessage<N>,
  name: N,
  detail?: string,
): OperationPhase<N> | undefined {
  if (message.phases === UNTIMED_PHASES) return undefined
  const phase: OperationPhase<N> = {
    name,
    detail,
    startTime: performance.now(),
    endTime: undefined,
    failed: false,
  }
  message.phases.push(phase)
  return phase
}

/** Ends a step now; a second call, or a step that was not timed (`undefined`), changes nothing. */
export function endPhase(phase: OperationPhase | undefined, failed = false): void {
  if (phase === undefined || phase.endTime !== undefined) return
  phase.endTime = performance.now()
  phase.failed = failed
}

/** Converts a `performance.now()` time to epoch milliseconds (what OpenTelemetry takes). */
export function epochMilliseconds(time: number): number {
  return performance.timeOrigin + time
}
