// Ends the run with one plain line, 'N passed, N failed, N skipped', that any CI can read.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const {
      numPassedTests: passed,
      numFailedTests: failed,
      numPendingTests: skipped,
      numTodoTests: todo,
    } = results;
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped + todo} skipped\n`);
  }
}
module.exports = SummaryReporter;
