import { describe, expect, it } from 'vitest'
import {
  boundedLabel,
  clientIdLabel,
  MAX_LABELLED_CLIENT_IDS,
  NONE_LABEL,
  OTHER_LABEL,
} from '../../src/observability/labels.js'

const at = { where: 'registerIssuerMetrics', path: 'clientIds' }

describe('boundedLabel', () => {
  const vocabulary = new Set(['client_secret_basic', 'client_secret_post'])

  it('keeps a value of the vocabulary', () => {
    expect(boundedLabel('client_secret_post', vocabulary)).toBe('client_secret_post')
  })

  it('turns any other value into other, and no value into none', () => {
    expect(boundedLabel('/admin/../../etc', vocabulary)).toBe(OTHER_LABEL)
    expect(boundedLabel(undefined, vocabulary)).toBe(NONE_LABEL)
  })
})

describe('clientIdLabel', () => {
  it('returns undefined when no ids are listed: no client_id label at all', () => {
    expect(clientIdLabel(undefined, at)).toBeUndefined()
  })

  it('labels a listed id with itself and every other id (or none) as other', () => {
    const label = clientIdLabel(['billing', 'reports'], at)
    expect(label?.('billing')).toBe('billing')
    expect(label?.('unknown-client')).toBe(OTHER_LABEL)
    expect(label?.(undefined)).toBe(OTHER_LABEL)
  })

  it.each([
    ['not an array', 'billing', /option "clientIds" must be an array of 1 to 1000 client ids/],
    ['an empty array', [], /must be an array/],
    [
      'too many ids',
      Array.from({ length: MAX_LABELLED_CLIENT_IDS + 1 }, (_, i) => `c${i}`),
      /1000/,
    ],
    ['a non-string', ['a', 1], /option "clientIds\[1\]" must be a client id/],
    ['an empty id', [''], /clientIds\[0\]/],
    ['a control character', ['a\nb'], /clientIds\[0\]/],
    ['an id too long', ['x'.repeat(257)], /clientIds\[0\]/],
    ['the id other', ['other'], /must not be "other"/],
    ['a repeated id', ['a', 'a'], /clientIds\[1\]" repeats a client id/],
  ])('throws a TypeError naming the option for %s', (_, ids, message) => {
    expect(() => clientIdLabel(ids, at)).toThrow(TypeError)
    expect(() => clientIdLabel(ids, at)).toThrow(message)
  })
})
