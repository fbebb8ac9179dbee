// Reads the instruction counts out of a callgrind profile (valgrind's callgrind output format:
// https://valgrind.org/docs/manual/cl-format.html), split into the work V8's optimizing compilers
// did and everything else.
import { readFileSync } from 'node:fs'

/**
 * Functions of V8's optimizing compilers (TurboFan, Maglev) and their register allocators. How
 * much of their work falls inside a measured window depends on when V8 decides to (re)compile,
 * not on the code measured: it is reported apart and left out of the steady count.
 */
const COMPILER =
  /v8::internal::(?:compiler|maglev|turboshaft)::|v8::internal::Zone|OptimizedCompilationJob|RegisterAllocat|InstructionSelector|PipelineImpl/

/** Instructions executed in one profile. */
export interface InstructionCounts {
  /** Every instruction counted, on every thread. */
  total: number
  /** The optimizing compilers' part of `total`. */
  compiler: number
}

/**
 * Sums the self cost (event `Ir`, the only event collected) of every function in a callgrind
 * profile. Cost lines after a `calls=` line are the inclusive cost of that call and are skipped:
 * they are already counted as the callee's own cost.
 *
 * @throws {Error} When the file does not record `Ir`.
 */
export function readInstructionCounts(file: string): InstructionCounts {
  const names = new Map<string, string>()
  let fn = ''
  let inCall = false
  let total = 0
  let compiler = 0
  let sawEvents = false
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const first = line.charCodeAt(0)
    // A cost line starts with a position: a number, or '+', '-' or '*' (relative to the last).
    if ((first >= 48 && first <= 57) || line[0] === '+' || line[0] === '-' || line[0] === '*') {
      if (inCall) {
        inCall = false
        continue
      }
      const cost = Number(line.split(' ')[1] ?? 0)
      total += cost
      if (COMPILER.test(fn)) compiler += cost
    } else if (line.startsWith('fn=')) {
      fn = functionName(line.slice(3), names)
    } else if (line.startsWith('cfn=')) {
      // A callee may be named here first; later `fn=(id)` lines refer to it.
      functionName(line.slice(4), names)
    } else if (line.startsWith('calls=')) {
      inCall = true
    } else if (line.startsWith('events:')) {
      sawEvents = line.trim() === 'events: Ir'
    }
  }
  if (!sawEvents) throw new Error(`${file}: not a callgrind profile of instructions (events: Ir)`)
  return { total, compiler }
}

// Callgrind names a function once as `(id) name` (in an `fn=` or `cfn=` line), then by `(id)`.
function functionName(spec: string, names: Map<string, string>): string {
  const match = /^\((\d+)\)(?: (.*))?$/.exec(spec)
  if (match === null) return spec
  const [, id = '', name] = match
  if (name !== undefined) names.set(id, name)
  return names.get(id) ?? spec
}
