/**
 * `@ccflow/core`: the code that `@ccflow/issuer`, `@ccflow/guard` and the other ccflow packages
 * share, written once. It is published because they depend on it; it is versioned with them, and
 * applications should import from those packages, not from here.
 *
 * @module
 */

export { isObjectRecord, isPlainObject } from './objects.js'
export {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkNumber,
  checkObject,
  checkOneOf,
  checkString,
  checkUrl,
  optionError,
} from './options/check.js'
export type { NumberRange, OptionPath } from './options/check.js'
export { checkKnownKeys, didYouMean, nearestName } from './options/keys.js'
export type { OptionTable } from './options/keys.js'
export { defineAliases, deprecationCode, renameDeprecated } from './options/deprecate.js'
export type { OptionAliases } from './options/deprecate.js'
export { forgetWarnings, MAX_WARNED, warnOnce } from './diagnostics/warn-once.js'
export { logValue } from './diagnostics/log-value.js'
export { wrapHook } from './diagnostics/hook.js'
export { isScopeToken, parseScope } from './scope.js'
export { countAuthorizationHeaders } from './http/authorization.js'
export { readCappedText } from './http/read-capped.js'
export type { CappedText } from './http/read-capped.js'
export { isSecureOrLoopback, LOOPBACK_HOSTS } from './url.js'
export { settleWithin } from './timeout.js'
export { brand, isBranded, markBranded } from './errors/brand.js'
export type { ProtocolError } from './errors/protocol-error.js'
export {
  DEFAULT_REDIS_TIMEOUT_MS,
  MAX_REDIS_TIMEOUT_MS,
  REDIS_COMMAND_OPTIONS,
  REDIS_TIMEOUT_CODE,
  resolveRedisCommand,
  withRedisTimeout,
} from './redis/send-command.js'
export type { RedisCommandOptions, RedisSendCommand } from './redis/send-command.js'
export { checkRedisKeyPrefix, hashedPairKey, isRedisKeyPrefix } from './redis/key.js'
export {
  checkDenylistPrefix,
  DEFAULT_DENYLIST_PREFIX,
  denylistKey,
  isDenylistPrefix,
} from './redis/denylist-key.js'
export {
  ASYMMETRIC_ALGORITHMS,
  EC_ALGORITHM_BY_JWK_CURVE,
  EC_ALGORITHM_BY_NODE_CURVE,
  EC_ALGORITHMS,
  EDDSA_ALGORITHM,
  HMAC_ALGORITHMS,
  MIN_HMAC_BYTES,
  MIN_RSA_BITS,
  PSS_ALGORITHMS,
  RSA_ALGORITHMS,
  SIGNATURE_ALGORITHMS,
  VERIFIABLE_ALGORITHMS,
} from './jose/algorithms.js'
export type { AsymmetricAlgorithm, SignatureAlgorithm } from './jose/algorithms.js'
export {
  decodeCompactJws,
  freezeDeep,
  HEADER_MEMO_MAX,
  hasDuplicateMembers,
  normalizeType,
} from './jose/compact-jws.js'
export type {
  CompactJwsRejection,
  DecodedJws,
  HeaderMemo,
  JwsHeader,
  JwsHeaderPolicy,
} from './jose/compact-jws.js'
export type {
  EcPrivateJwk,
  EcPublicJwk,
  Jwk,
  JwkParameters,
  OkpPrivateJwk,
  OkpPublicJwk,
  PrivateJwk,
  PublicJwk,
  RsaPrivateJwk,
  RsaPublicJwk,
} from './jose/jwk.js'
export { defaultAlgorithmForKey, signJws, verifyJwsSignature } from './jose/signature.js'
export { jwkThumbprint } from './jose/thumbprint.js'
export { fetchIssuerMetadata, parseDiscoveryIssuer } from './keys/discovery.js'
export { KeySourceFetchError } from './keys/jwks-fetch.js'
export type { FetchLimits } from './keys/jwks-fetch.js'
export { groupByKid } from './keys/group-by-kid.js'
export { importJwks, keyFor, onlyKeyFor } from './keys/jwk-set.js'
export type { CachedSet, ImportedKey, ImportJwksOptions, ImportResult } from './keys/jwk-set.js'
export {
  createRemoteKeySet,
  KeySetUnavailableError,
  REMOTE_KEY_SET_ALIASES,
  REMOTE_KEY_SET_DEFAULTS,
  REMOTE_KEY_SET_OPTIONS,
} from './keys/remote-key-set.js'
export type {
  CreateRemoteKeySetOptions,
  KeySourceFailureReason,
  KeySourceFetch,
  RemoteKeyAlgorithm,
  RemoteKeySet,
  RemoteKeySetEvent,
  RemoteKeySetOptionsContext,
  RemoteKeySetOptions,
  RemoteKeySetStats,
  SkippedKeyReason,
} from './keys/remote-key-set.js'
export { Strategy } from './passport/strategy.js'
export type { PassportStrategy } from './passport/strategy.js'
export { channelName, subscribeChannels } from './observability/channels.js'
export type { ChannelComponent, ChannelHandler } from './observability/channels.js'
export {
  beginPhase,
  endPhase,
  epochMilliseconds,
  isOperationObserved,
  operationChannels,
  phaseListFor,
  publishEnd,
  publishStart,
  UNTIMED_PHASES,
} from './observability/operation.js'
export type {
  OperationChannels,
  OperationMessage,
  OperationPhase,
} from './observability/operation.js'
export { collectSnapshots, provideSnapshots } from './observability/snapshots.js'
export {
  boundedLabel,
  clientIdLabel,
  MAX_LABELLED_CLIENT_IDS,
  NONE_LABEL,
  OTHER_LABEL,
} from './observability/labels.js'
export type { ClientIdLabel } from './observability/labels.js'
export {
  CLIENT_ID_LABEL,
  DURATION_BUCKETS_SECONDS,
  labelNames,
  pickLabels,
  prometheusName,
} from './observability/metrics.js'
export type {
  GaugeReader,
  GaugeReading,
  MetricDefinition,
  MetricKind,
  MetricLabels,
  MetricRecorder,
  MetricSet,
  RegisteredMetrics,
} from './observability/metrics.js'
export { registerPrometheusMetrics } from './observability/prometheus.js'
export {
  checkMetricPrefix,
  checkOtelProvider,
  checkPrometheusRegistry,
  OTEL_ADAPTER_OPTIONS,
  resolveOtelAdapterOptions,
  startPrometheusAdapter,
} from './observability/adapter-options.js'
export type { OtelAdapterSettings } from './observability/adapter-options.js'
export type {
  PrometheusClient,
  PrometheusMetricConfig,
  PrometheusRegistrable,
  PrometheusRegistry,
} from './observability/prometheus.js'
export {
  createOtelInstruments,
  startOtelInstrumentation,
  traceOperations,
} from './observability/opentelemetry.js'
export type {
  OtelApi,
  OtelAttributes,
  OtelInstrumentation,
  OtelMeterProvider,
  OtelTracerProvider,
  OtelMeter,
  OtelObservableResult,
  OtelSpan,
  OtelTracing,
  SpanDescription,
} from './observability/opentelemetry.js'
