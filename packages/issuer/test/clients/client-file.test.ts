import { afterEach, describe, expect, it, vi } from 'vitest'
import { readClientFile, resolveClientFileOptions } from '../../src/clients/client-file.js'

const PATH = '/etc/ccflow/clients.json'

describe('readClientFile', () => {
  it('hands the records over as they are, for validateClient to check', () => {
    const records = [{ client_id: 'billing', audience: 'x' }, 42]
    expect(readClientFile(JSON.stringify(records), PATH)).toEqual({ records, warnings: [] })
  })

  it('rejects text that is not JSON, naming the file', () => {
    expect(() => readClientFile('[{', PATH)).toThrow(new RegExp(`^${PATH}: not valid JSON \\(`))
  })

  it('rejects JSON that is not an array', () => {
    expect(() => readClientFile('{"clients": []}', PATH)).toThrow(
      new TypeError(`${PATH}: must hold a JSON array of clients`),
    )
  })

  it('warns about a file without clients', () => {
    expect(readClientFile('[]', PATH)).toEqual({
      records: [],
      warnings: [`${PATH} holds no clients: every client is refused`],
    })
  })
})

describe('resolveClientFileOptions', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('sends warnings to process.emitWarning with code CCFLOW_CLIENT_FILE by default', () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    resolveClientFileOptions(undefined, 'jsonFileClientStore').onWarning('careful')
    expect(emit).toHaveBeenCalledWith('careful', { code: 'CCFLOW_CLIENT_FILE' })
  })

  it('keeps the given warning sink', () => {
    const onWarning = vi.fn()
    expect(resolveClientFileOptions({ onWarning }, 'jsonFileClientStore')).toEqual({ onWarning })
  })

  it('treats an option set to undefined as not given', () => {
    const resolved = resolveClientFileOptions({ onWarning: undefined }, 'jsonFileClientStore')
    expect(resolved.onWarning).toBeTypeOf('function')
  })

  it.each([
    [
      'an unknown option',
      { onWarnings: () => undefined },
      'jsonFileClientStore: unknown option "onWarnings" (did you mean "onWarning"?)',
    ],
    [
      'secretPepper, which a file of hashes does not need',
      { secretPepper: 'p'.repeat(32) },
      'jsonFileClientStore: unknown option "secretPepper" (the file holds only hashes; give the ' +
        "pepper to tokenEndpoint's secretPepper)",
    ],
    [
      'an onWarning that is not a function',
      { onWarning: 'log' },
      'jsonFileClientStore: option "onWarning" must be a function',
    ],
    ['options that are not an object', 'pepper', 'jsonFileClientStore: options must be an object'],
  ])('throws a TypeError for %s', (_name, options, message) => {
    expect(() => resolveClientFileOptions(options, 'jsonFileClientStore')).toThrow(
      new TypeError(message),
    )
  })
})
