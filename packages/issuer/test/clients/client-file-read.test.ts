import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { clientFileError } from '../../src/clients/client-file-read.js'

describe('clientFileError', () => {
  it('names the file as resolved from the working directory, with the code explained', () => {
    const cause = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
    const error = clientFileError('jsonFileClientStore', 'clients.json', cause)
    expect(error.message).toBe(
      `jsonFileClientStore: cannot read the clients file ${resolve('clients.json')} (EACCES: permission denied)`,
    )
    expect(error).toMatchObject({ code: 'EACCES', cause })
  })

  it('keeps an unusual code as it is', () => {
    const error = clientFileError('f', '/x', Object.assign(new Error(), { code: 'EMFILE' }))
    expect(error.message).toBe('f: cannot read the clients file /x (EMFILE: cannot be read)')
  })

  it('says unreadable when the cause carries no code', () => {
    const error = clientFileError('f', '/x', new Error('odd'))
    expect(error.message).toBe('f: cannot read the clients file /x (unreadable)')
    expect(error).not.toHaveProperty('code')
  })

  it('is one line', () => {
    const error = clientFileError('f', '/x', Object.assign(new Error('a\nb'), { code: 'ENOENT' }))
    expect(error.message).not.toContain('\n')
  })
})
