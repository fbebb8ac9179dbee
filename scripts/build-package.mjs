// Builds one package into dist/esm (import) and dist/cjs (require) with plain tsc.
// Run from the package folder: `node ../../scripts/build-package.mjs`.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')

rmSync('dist', { recursive: true, force: true })
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
execFileSync(
  process.execPath,
  [
    tsc,
    '-p',
    'tsconfig.build.json',
    '--module',
    'CommonJS',
    '--moduleResolution',
    'Node10',
    '--verbatimModuleSyntax',
    'false',
    '--outDir',
    'dist/cjs',
  ],
  { stdio: 'inherit' },
)
// A nested package.json makes Node and TypeScript read dist/cjs as CommonJS.
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n')
