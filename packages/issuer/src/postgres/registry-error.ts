/**
 * Why a registry operation was refused:
 * - `client_exists`: `create` or `importClients` met a `client_id` already registered;
 * - `client_not_found`: no client has this id;
 * - `secret_not_found`: the client has no active secret with this id;
 * - `last_secret`: revoking it would leave the client no secret that still works;
 * - `invalid_client_record`: the record (or the change, or an argument) is not valid; the
 *   message names the field;
 * - `schema_mismatch`: the database schema is not the version this package knows.
 */
export type RegistryErrorCode =
  | 'client_exists'
  | 'client_not_found'
  | 'secret_not_found'
  | 'last_secret'
  | 'invalid_client_record'
  | 'schema_mismatch'

/**
 * A refusal of the PostgreSQL client registry or store, with a stable `code`. The message names
 * the field or the client id, never a secret or a hash.
 *
 * @example
 * ```ts
 * try {
 *   await registry.revokeSecret('billing', 'k1')
 * } catch (err) {
 *   if (RegistryError.is(err) && err.code === 'last_secret') console.error(err.message)
 * }
 * ```
 */
export class RegistryError extends Error {
  override readonly name = 'RegistryError'
  /** What went wrong, stable across releases. */
  readonly code: RegistryErrorCode

  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /**
   * Whether `value` is a `RegistryError`, from either build of this package (the ESM and CJS
   * copies of the class are different objects, so `instanceof` can miss).
   */
  static is(value: unknown): value is RegistryError {
    return value instanceof Error && value.name === 'RegistryError' && 'code' in value
  }
}
