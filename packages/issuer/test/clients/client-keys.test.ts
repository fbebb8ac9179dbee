import { describe, expect, it } from 'vitest'
import { CLIENT_KEYS, unknownKey } from '../../src/clients/client-keys.js'

describe('unknownKey', () => {
  it.each([
    ['audiances', 'audiences'],
    ['scopes', 'scope'],
    ['client-id', 'client_id'],
    ['Client_Name', 'client_name'],
    ['acces_token_tl', 'access_token_ttl'],
  ])('suggests the canonical field close to %s', (key, suggestion) => {
    expect(unknownKey(key, CLIENT_KEYS)).toBe(
      `unknown key "${key}" (did you mean "${suggestion}"?)`,
    )
  })

  it('gives no hint when no field is within two edits', () => {
    expect(unknownKey('colour', CLIENT_KEYS)).toBe('unknown key "colour"')
  })

  it('allows only one edit for a short name, which two edits make into almost anything', () => {
    expect(unknownKey('scop', ['scope'])).toBe('unknown key "scop" (did you mean "scope"?)')
    expect(unknownKey('sco', ['scope'])).toBe('unknown key "sco"')
  })

  it('names what was unknown with the given noun', () => {
    expect(unknownKey('onWarnings', ['onWarning'], 'option')).toBe(
      'unknown option "onWarnings" (did you mean "onWarning"?)',
    )
  })
})
