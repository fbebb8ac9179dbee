// Prints the closing line of a CI run, "tests: N passed, N failed, N skipped", from vitest's JSON report.
import { readFileSync } from 'node:fs'

const file = process.argv[2] ?? '.test-results/vitest.json'
let report
try {
  report = JSON.parse(readFileSync(file, 'utf8'))
} catch {
  console.log('tests: 0 passed, 1 failed (no test report was written)')
  process.exit(1)
}
const skipped = report.numPendingTests + report.numTodoTests
console.log(
  `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`,
)
process.exit(report.numFailedTests === 0 && report.numPassedTests > 0 ? 0 : 1)
