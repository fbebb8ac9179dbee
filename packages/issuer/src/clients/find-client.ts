import type { ClientStore } from './client-store.js'
import { isTokenError } from '../errors.js'
import { withinTime } from '../unavailable.js'

/**
 * Looks `clientId` up in the client store within `timeoutMs`. A store that does not answer in
 * time rejects with a `TemporarilyUnavailableError` (a 503, reported with it); a store that
 * throws or rejects is handed to `onRejected` first (the `store_error` event), then its error is
 * rethrown as is (a generic 500).
 *
 * @internal
 */
export async function findClientWithin(
  clients: ClientStore,
  clientId: string,
  timeoutMs: number,
  onRejected?: (error: unknown, clientId: string) => void,
): Promise<unknown> {
  try {
    return await withinTime(clients.findClient(clientId), timeoutMs, 'client_store')
  } catch (error) {
    // A TokenError is a timeout or the store's own 503: reported with the answer it makes.
    if (!isTokenError(error)) onRejected?.(error, clientId)
    throw error
  }
}
