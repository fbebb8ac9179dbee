import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** A fenced code block of a README, and whether the README-sample test compiles and runs it. */
export interface ReadmeBlock {
  /** The README, relative to the repository root (`packages/issuer/README.md`). */
  readme: string
  /** 1-based line of the opening fence. */
  line: number
  /** The heading the block sits under (`Quick start`), or `''` before the first one. */
  heading: string
  /** The fence's info string (`ts`, `sh`, …). */
  lang: string
  code: string
  /**
   * `complete`: a ts/js block that imports from `@ccflow/…`, or any block marked
   * `<!-- sample: name -->`; `fragment`: marked `<!-- fragment: why -->`; `other`: the rest.
   */
  kind: 'complete' | 'fragment' | 'other'
  /** The marker's name for a complete block, else `<readme dir>#<heading slug>[-n]`. */
  id: string
  /** `ts` (compiled by tsc, then run) or `js` (run as it is) for a complete block. */
  language: 'ts' | 'js' | undefined
}

const TS = new Set(['ts', 'typescript', 'mts'])
const JS = new Set(['js', 'javascript', 'mjs'])
const IMPORTS_CCFLOW = /\bfrom\s+['"]@ccflow\/|\bimport\(\s*['"]@ccflow\//
const MARKER = /^<!--\s*(sample|fragment):\s*(.*?)\s*-->$/
const SAMPLE_NAME = /^[a-z0-9][a-z0-9-]*$/

/** A GitHub-style anchor slug of a heading. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .trim()
    .replace(/ /g, '-')
}

/**
 * Reads the fenced blocks of one README (markdown `text`, found at `readme`). A marker comment
 * applies to the next fence when only blank lines stand between them (Prettier puts one there).
 *
 * @throws {Error} On a marker that no fence follows, or a malformed sample name.
 */
export function readmeBlocks(readme: string, text: string): ReadmeBlock[] {
  const lines = text.split('\n')
  const blocks: ReadmeBlock[] = []
  const perHeading = new Map<string, number>()
  const where = readme === 'README.md' ? '' : readme.replace(/\/README\.md$/, '')
  let heading = ''
  let marker: { kind: 'sample' | 'fragment'; value: string; line: number } | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const fence = /^(`{3,})\s*([^\s`]*)/.exec(line)
    if (fence) {
      const close = lines.findIndex((l, j) => j > i && l.startsWith(fence[1] as string))
      if (close < 0) throw new Error(`${readme}:${i + 1}: a fence that is never closed`)
      const lang = (fence[2] as string).toLowerCase()
      const code = lines.slice(i + 1, close).join('\n') + '\n'
      const language = TS.has(lang) ? 'ts' : JS.has(lang) ? 'js' : undefined
      let kind: ReadmeBlock['kind'] = 'other'
      if (marker?.kind === 'fragment') kind = 'fragment'
      else if (marker?.kind === 'sample' || (language && IMPORTS_CCFLOW.test(code))) {
        kind = 'complete'
      }
      if (kind === 'complete' && language === undefined) {
        throw new Error(`${readme}:${i + 1}: a sample must be a ts or js block, not "${lang}"`)
      }
      const n = (perHeading.get(heading) ?? 0) + 1
      perHeading.set(heading, n)
      const derived = `${where}#${slug(heading)}${n > 1 ? `-${n}` : ''}`
      blocks.push({
        readme,
        line: i + 1,
        heading,
        lang,
        code,
        kind,
        id: marker?.kind === 'sample' ? marker.value : derived,
        language: kind === 'complete' ? language : undefined,
      })
      marker = undefined
      i = close
      continue
    }
    const comment = MARKER.exec(line.trim())
    if (comment) {
      const [, kind, value] = comment as unknown as [string, 'sample' | 'fragment', string]
      if (kind === 'sample' && !SAMPLE_NAME.test(value)) {
        throw new Error(`${readme}:${i + 1}: a sample name is [a-z0-9-], not "${value}"`)
      }
      marker = { kind, value, line: i + 1 }
      continue
    }
    if (line.trim() === '') continue
    if (marker) throw new Error(`${readme}:${marker.line}: a marker with no fence after it`)
    const title = /^#{1,6}\s+(.*)$/.exec(line)
    if (title) heading = (title[1] as string).trim()
  }
  if (marker) throw new Error(`${readme}:${marker.line}: a marker with no fence after it`)
  return blocks
}

/** The READMEs whose samples are tested: the root one and one per package. */
function readmePaths(root: string): string[] {
  const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(root, 'packages', entry.name, 'README.md'))
  return [join(root, 'README.md'), ...packages].map((path) => relative(root, path))
}

/** Every fenced block of every tested README. */
export function allReadmeBlocks(root: string): ReadmeBlock[] {
  return readmePaths(root).flatMap((readme) =>
    readmeBlocks(readme, readFileSync(join(root, readme), 'utf8')),
  )
}
