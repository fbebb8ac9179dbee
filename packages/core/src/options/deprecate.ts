/**
 * Deprecated option names and the names that replace them (`{ hookTimeout: 'hookTimeoutMs' }`),
 * for one object level.
 */
export type OptionAliases = Readonly<Record<string, string>>

/**
 * An aliases table checked against the options it renames: every old and new name must be an
 * option of `O` (so a typo in either fails to compile), returned frozen.
 */
export function defineAliases<O extends object>(table: {
  readonly [K in keyof O & string]?: keyof O & string
}): OptionAliases {
  return Object.freeze({ ...table }) as OptionAliases
}

const warned = new Set<string>()

/** `CCFLOW_DEP_` plus the old name in upper snake case: `jwks.timeout` → `CCFLOW_DEP_JWKS_TIMEOUT`. */
export function deprecationCode(path: string): string {
  return `CCFLOW_DEP_${path
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase()}`
}

/**
 * Maps deprecated option names to their replacements: returns `options` itself when it uses none,
 * else a copy with each old key renamed. An option set to `undefined` counts as not given. Emits one `DeprecationWarning` per process and per old
 * name (`code` from {@link deprecationCode}), and refuses an old name given together with its
 * replacement.
 *
 * @throws {TypeError} `<where>: options "<old>" and "<new>" are the same option; keep only "<new>"`.
 */
export function renameDeprecated<T extends object>(
  options: T,
  aliases: OptionAliases,
  where: string,
  prefix = '',
): T {
  let renamed: Record<string, unknown> | undefined
  const record = options as Record<string, unknown>
  for (const [oldName, newName] of Object.entries(aliases)) {
    // An option set to undefined is not given, under either name.
    if (record[oldName] === undefined) continue
    const oldPath = prefix + oldName
    const newPath = prefix + newName
    if (record[newName] !== undefined) {
      throw new TypeError(
        `${where}: options "${oldPath}" and "${newPath}" are the same option; keep only "${newPath}"`,
      )
    }
    renamed ??= { ...record }
    renamed[newName] = record[oldName]
    delete renamed[oldName]
    const code = deprecationCode(oldPath)
    if (!warned.has(code)) {
      warned.add(code)
      process.emitWarning(
        `${where}: option "${oldPath}" is deprecated and will be removed in the next major version; use "${newPath}" (same value)`,
        { type: 'DeprecationWarning', code },
      )
    }
  }
  return (renamed ?? options) as T
}
