import { vi } from 'vitest'

/** A process warning as `process.emitWarning(message, { code })` was called with it. */
export interface CapturedWarning {
  message: string
  code: string | undefined
}

/**
 * Records the process warnings of a test instead of printing them. Call it in `beforeEach`;
 * `vi.restoreAllMocks()` in `afterEach` puts `process.emitWarning` back (and `forgetWarnings('')`
 * lets the next test see the same warnings again).
 */
export function captureWarnings(): CapturedWarning[] {
  const warnings: CapturedWarning[] = []
  vi.spyOn(process, 'emitWarning').mockImplementation(((
    message: string,
    options?: { code?: string },
  ) => {
    warnings.push({ message, code: options?.code })
  }) as typeof process.emitWarning)
  return warnings
}
