import { afterEach, describe, expect, it, vi } from 'vitest'
import { InvalidTokenError } from '../../src/errors.js'
import { createRevocationStep } from '../../src/verify/revocation-step.js'
import type { AuthInfo } from '../../src/types.js'

const auth = { token: 't', claims: { iss: 'i', jti: 'j' } } as unknown as AuthInfo
const invalid = (reason: 'revoked'): InvalidTokenError => new InvalidTokenError(reason)

afterEach(() => {
  vi.useRealTimers()
})

describe('createRevocationStep', () => {
  it('answers synchronously for a synchronous false, and refuses a synchronous true', () => {
    expect(createRevocationStep(() => false, 100, invalid)(auth)).toBe(auth)
    expect(() => createRevocationStep(() => true, 100, invalid)(auth)).toThrow(InvalidTokenError)
  })

  it('adopts a promise answer', async () => {
    await expect(
      createRevocationStep(() => Promise.resolve(false), 100, invalid)(auth),
    ).resolves.toBe(auth)
    await expect(
      createRevocationStep(() => Promise.resolve(true), 100, invalid)(auth),
    ).rejects.toMatchObject({ status: 401, reason: 'revoked' })
  })

  it.each([
    [
      'throws',
      () => {
        throw new Error('down')
      },
    ],
    ['rejects', () => Promise.reject(new Error('down'))],
    ['answers a non-boolean', () => 'no'],
    ['answers a non-boolean later', () => Promise.resolve(1)],
  ])('fails closed with 503 when the hook %s', async (_what, hook) => {
    const outcome = (async () => createRevocationStep(hook, 100, invalid)(auth))()
    await expect(outcome).rejects.toMatchObject({
      status: 503,
      reason: 'revocation_check_failed',
    })
  })

  it('fails closed with 503 when the hook never answers within revocationTimeout', async () => {
    vi.useFakeTimers()
    const pending = createRevocationStep(() => new Promise(() => {}), 250, invalid)(auth)
    const outcome = expect(pending).rejects.toMatchObject({ status: 503 })
    await vi.advanceTimersByTimeAsync(250)
    await outcome
  })
})
