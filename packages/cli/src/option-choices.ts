import { InvalidArgumentError, type Option } from 'commander'
import { didYouMean } from '@ccflow/core'

/**
 * `option.choices(list)`, whose usage error also suggests the nearest choice
 * (`--alg es256` → `did you mean ES256?`).
 */
export function withChoices<T extends string>(option: Option, choices: readonly T[]): Option {
  return option.choices(choices).argParser((value: string): T => {
    if ((choices as readonly string[]).includes(value)) return value as T
    throw new InvalidArgumentError(
      `Allowed choices are ${choices.join(', ')}${didYouMean(value, choices, '')}.`,
    )
  })
}
