import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'

// A clients file that cannot be read stops the app at startup: the message is one line that
// names the file as the process resolved it (a relative path depends on the working
// directory, the usual reason it is "missing"), and the error keeps the system `code`.

const EXPLAIN: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
}

/** The error for a clients file that cannot be read: one line, the resolved path, its `code`. */
export function clientFileError(where: string, path: string, cause: unknown): Error {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code
  const why = code === undefined ? 'unreadable' : `${code}: ${EXPLAIN[code] ?? 'cannot be read'}`
  const error = new Error(`${where}: cannot read the clients file ${resolve(path)} (${why})`, {
    cause,
  })
  return code === undefined ? error : Object.assign(error, { code })
}

/** Reads a clients file at startup, synchronously. */
export function readClientFileText(where: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (cause) {
    throw clientFileError(where, path, cause)
  }
}

/** Reads a clients file again (`reload()`). */
export async function readClientFileTextAsync(where: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (cause) {
    throw clientFileError(where, path, cause)
  }
}
