import { channel } from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { collectSnapshots, provideSnapshots } from '../../src/observability/snapshots.js'

describe('collectSnapshots', () => {
  it('returns nothing when no provider is listening', () => {
    expect(collectSnapshots('ccflow:test:snapshot-none')).toEqual([])
  })

  it('gathers the snapshot of every live provider, read at collection time', () => {
    const name = 'ccflow:test:snapshot-two'
    const a = { keys: 1 }
    const b = { keys: 2 }
    provideSnapshots(name, a, (owner) => owner.keys)
    provideSnapshots(name, b, (owner) => owner.keys * 10)
    expect(collectSnapshots(name)).toEqual([1, 20])
    a.keys = 3
    expect(collectSnapshots(name)).toEqual([3, 20])
  })

  it('skips a provider whose reader throws', () => {
    const name = 'ccflow:test:snapshot-throws'
    provideSnapshots(name, {}, () => {
      throw new Error('broken reader')
    })
    provideSnapshots(name, {}, () => 'ok')
    expect(collectSnapshots(name)).toEqual(['ok'])
  })

  it('drops the provider of an owner that was garbage-collected', async () => {
    const name = 'ccflow:test:snapshot-collected'
    const kept = { id: 'kept' }
    provideSnapshots(name, kept, (owner) => owner.id)
    ;(() => {
      provideSnapshots(name, { id: 'discarded' }, (owner) => owner.id)
    })()
    // A WeakRef holds its target until the current job ends; then a full collection frees it.
    await new Promise((resolve) => setImmediate(resolve))
    const gc = (globalThis as { gc?: () => void }).gc
    expect(gc).toBeTypeOf('function')
    gc?.()
    expect(collectSnapshots(name)).toEqual(['kept'])
    expect(collectSnapshots(name)).toEqual(['kept'])
  })

  it('ignores a message that is not a collection request', () => {
    const name = 'ccflow:test:snapshot-other-message'
    const owner = { read: 0 }
    provideSnapshots(name, owner, (o) => ++o.read)
    channel(name).publish({ not: 'an array' })
    expect(owner.read).toBe(0)
  })
})
