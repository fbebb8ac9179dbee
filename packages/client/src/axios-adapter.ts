import { rejectsTokenChallenge } from './fetch-with-token.js'
import type { GetTokenOptions } from './options/types.js'
import type { AccessToken, TokenClient } from './token-client.js'

// Marks a request config already sent a second time.
const RETRIED = 'ccflowRetried'

/** The part of an axios request config the adapter uses (axios 1.x `InternalAxiosRequestConfig`). */
export interface AxiosLikeRequestConfig {
  headers: { set(name: string, value: string): unknown }
}

/**
 * The part of an axios instance the adapter uses, so that this package neither loads nor
 * depends on axios: any `AxiosInstance` of axios 1.x fits.
 */
export interface AxiosLikeInstance {
  interceptors: {
    request: {
      use(onFulfilled: <C extends AxiosLikeRequestConfig>(config: C) => Promise<C>): number
      eject(id: number): void
    }
    response: {
      use(onFulfilled: null, onRejected: (error: unknown) => Promise<unknown>): number
      eject(id: number): void
    }
  }
  /** Sends a request config again (the one axios handed to the interceptors). */
  request(config: never): Promise<unknown>
}

/**
 * Makes an axios instance send the client's token: a request interceptor sets `Authorization`,
 * and a response interceptor answers a 401 `invalid_token` by dropping that token (only while it
 * is still the cached one) and sending the request once more with a new token. Returns a
 * function that removes both interceptors.
 *
 * @example
 * ```ts
 * const api = axios.create({ baseURL: 'https://api.internal' })
 * attachTokenClient(api, tokens)
 * const { data } = await api.get('/reports')
 * ```
 */
export function attachTokenClient(
  instance: AxiosLikeInstance,
  tokens: Pick<TokenClient, 'getToken' | 'invalidate'>,
  options?: Pick<GetTokenOptions, 'scope' | 'resource' | 'minTtl'>,
): () => void {
  // The token each request was sent with.
  const sentWith = new WeakMap<object, AccessToken>()
  const requestId = instance.interceptors.request.use(async (config) => {
    const token = await tokens.getToken(options)
    config.headers.set('Authorization', `${token.type} ${token.value}`)
    sentWith.set(config, token)
    return config
  })
  const responseId = instance.interceptors.response.use(null, async (error: unknown) => {
    const { config, response } = (error ?? {}) as {
      config?: AxiosLikeRequestConfig & Record<string, unknown>
      response?: { status?: number; headers?: Record<string, unknown> }
    }
    const token = config === undefined ? undefined : sentWith.get(config)
    const challenge = response?.headers?.['www-authenticate']
    if (
      config === undefined ||
      token === undefined ||
      config[RETRIED] === true ||
      response?.status !== 401 ||
      typeof challenge !== 'string' ||
      !rejectsTokenChallenge(challenge)
    ) {
      throw error
    }
    // axios copies a config (own enumerable keys) for each send: the mark travels with it.
    config[RETRIED] = true
    await tokens.invalidate(token.value)
    return instance.request(config as never)
  })
  return () => {
    instance.interceptors.request.eject(requestId)
    instance.interceptors.response.eject(responseId)
  }
}
