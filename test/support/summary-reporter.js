// Prints one plain closing line after Jest's own summary, e.g.
// "tests: 120 passed, 0 failed, 0 skipped", which CI tooling reads in any language.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // Suites that failed to run at all (syntax errors, hooks) count as failures too.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`\ntests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
