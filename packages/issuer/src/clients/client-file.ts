import { checkFunction, checkKnownKeys, checkObject, type OptionTable } from '@ccflow/core'

/**
 * Options of `jsonFileClientStore`.
 */
export interface JsonFileClientStoreOptions {
  /**
   * Receives each warning about the file, on every successful load (today: a file without
   * clients).
   * @default `(message) => process.emitWarning(message, { code: 'CCFLOW_CLIENT_FILE' })`
   */
  onWarning?: ((message: string) => void) | undefined
}

/**
 * Resolved {@link JsonFileClientStoreOptions}.
 *
 * @internal
 */
export interface ClientFileSettings {
  readonly onWarning: (message: string) => void
}

const CLIENT_FILE_OPTIONS = { onWarning: true } satisfies OptionTable<JsonFileClientStoreOptions>

const emitWarning = (message: string): void => {
  process.emitWarning(message, { code: 'CCFLOW_CLIENT_FILE' })
}

/**
 * Checks the options of `jsonFileClientStore`.
 *
 * @internal
 * @throws {TypeError} Naming `where` and the option: not an object, an unknown option, an
 *   `onWarning` that is not a function.
 */
export function resolveClientFileOptions(options: unknown, where: string): ClientFileSettings {
  if (options === undefined) return { onWarning: emitWarning }
  const given = checkObject(options, where)
  checkKnownKeys(given, CLIENT_FILE_OPTIONS, where, '', {
    // The file holds hashes only, so nothing is hashed (or peppered) when it is read.
    hint: (key) =>
      key === 'secretPepper'
        ? "the file holds only hashes; give the pepper to tokenEndpoint's secretPepper"
        : undefined,
  })
  const onWarning = checkFunction(given.onWarning as ClientFileSettings['onWarning'] | undefined, {
    where,
    path: 'onWarning',
  })
  return { onWarning: onWarning ?? emitWarning }
}

/**
 * Reads the text of a client file: a JSON array of client records, each in the one record format
 * that `validateClient` checks (the file has no format of its own).
 *
 * @internal
 * @returns The records, still to be checked by `validateClient`, and the warnings to hand to
 *   `onWarning` once the whole file has loaded.
 * @throws {TypeError} Starting with `path`: not JSON, or not an array.
 */
export function readClientFile(
  text: string,
  path: string,
): { records: unknown[]; warnings: string[] } {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new TypeError(`${path}: not valid JSON (${(err as Error).message})`, { cause: err })
  }
  if (!Array.isArray(data)) throw new TypeError(`${path}: must hold a JSON array of clients`)
  const warnings: string[] = []
  if (data.length === 0) warnings.push(`${path} holds no clients: every client is refused`)
  return { records: data, warnings }
}
