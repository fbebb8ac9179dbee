import { describe, expect, expectTypeOf, it } from 'vitest'
import type { OptionTable } from '@ccflow/core'
import {
  TOKEN_ENDPOINT_ALIASES,
  TOKEN_ENDPOINT_DEFAULTS,
  TOKEN_ENDPOINT_OPTIONS,
} from '../../src/options/defaults.js'
import type { TokenEndpointOptions } from '../../src/options/types.js'

describe('TOKEN_ENDPOINT_OPTIONS', () => {
  it('names every option of TokenEndpointOptions, checked by the compiler', () => {
    expectTypeOf(TOKEN_ENDPOINT_OPTIONS).toEqualTypeOf<OptionTable<TokenEndpointOptions>>()
    const rest: Omit<OptionTable<TokenEndpointOptions>, 'hookTimeoutMs'> = TOKEN_ENDPOINT_OPTIONS
    // @ts-expect-error a table that leaves out an option (here hookTimeoutMs) does not compile
    const missing: OptionTable<TokenEndpointOptions> = rest
    expect(missing).toBe(TOKEN_ENDPOINT_OPTIONS)
  })

  it('lists every deprecated name, each mapped to a current option', () => {
    for (const [oldName, newName] of Object.entries(TOKEN_ENDPOINT_ALIASES)) {
      expect(TOKEN_ENDPOINT_OPTIONS).toHaveProperty(oldName, true)
      expect(TOKEN_ENDPOINT_OPTIONS).toHaveProperty(newName, true)
      expect(newName).toMatch(/(Ms|Seconds)$/)
    }
  })
})

describe('TOKEN_ENDPOINT_DEFAULTS', () => {
  it('is frozen', () => {
    expect(Object.isFrozen(TOKEN_ENDPOINT_DEFAULTS)).toBe(true)
  })
})
