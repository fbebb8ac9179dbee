import { optionError, type OptionPath } from '../options/check.js'

/** The label value of anything outside a label's fixed vocabulary (or a client id not listed). */
export const OTHER_LABEL = 'other'

/** The label value of something that is absent (no failure reason on a success, say). */
export const NONE_LABEL = 'none'

/** At most this many client ids may be given their own label value. */
export const MAX_LABELLED_CLIENT_IDS = 1000

/**
 * `value` when it is in `vocabulary`, {@link NONE_LABEL} when it is `undefined`, else
 * {@link OTHER_LABEL}: a label value can never be something a request made up.
 */
export function boundedLabel(value: string | undefined, vocabulary: ReadonlySet<string>): string {
  if (value === undefined) return NONE_LABEL
  return vocabulary.has(value) ? value : OTHER_LABEL
}

/** Maps a client id to its label value: itself when listed, else {@link OTHER_LABEL}. */
export type ClientIdLabel = (clientId: string | undefined) => string

/**
 * Checks an adapter's `clientIds` option once and returns the function that labels a client id:
 * a listed id is its own label value, any other id (or none) is {@link OTHER_LABEL}. Returns
 * `undefined` when the option is not given: then no metric has a `client_id` label at all, the
 * default, as Keycloak does, because every client id would otherwise be a new series.
 *
 * @throws {TypeError} Unless `ids` is an array of 1 to {@link MAX_LABELLED_CLIENT_IDS} distinct
 *   strings of 1 to 256 characters without control characters, none of them `other`.
 */
export function clientIdLabel(ids: unknown, at: OptionPath): ClientIdLabel | undefined {
  if (ids === undefined) return undefined
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_LABELLED_CLIENT_IDS) {
    throw optionError(
      at.where,
      at.path,
      `must be an array of 1 to ${MAX_LABELLED_CLIENT_IDS} client ids`,
    )
  }
  const listed = new Set<string>()
  for (const [i, id] of ids.entries()) {
    if (typeof id !== 'string' || id === '' || id.length > 256 || hasControlCharacter(id)) {
      throw optionError(
        at.where,
        `${at.path}[${i}]`,
        'must be a client id (1 to 256 characters, no control characters)',
      )
    }
    if (id === OTHER_LABEL) {
      throw optionError(
        at.where,
        `${at.path}[${i}]`,
        `must not be "${OTHER_LABEL}", the label value of every client not listed`,
      )
    }
    if (listed.has(id)) throw optionError(at.where, `${at.path}[${i}]`, 'repeats a client id')
    listed.add(id)
  }
  return (clientId) => (clientId !== undefined && listed.has(clientId) ? clientId : OTHER_LABEL)
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}
