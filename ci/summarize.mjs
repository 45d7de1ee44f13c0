// Prints the closing line CI reads ("N passed, N failed, N skipped") from jest's JSON reports, and
// fails when the integration report is missing, ran nothing, or skipped anything: under CI a skipped
// integration suite means a real server was not used.
import { existsSync, readFileSync } from 'node:fs';

const [unitFile, integrationFile] = process.argv.slice(2);
const read = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null);
const unit = read(unitFile);
const integration = read(integrationFile);
let failed = false;
let passed = 0;
let failures = 0;
let skipped = 0;
for (const [name, report] of [
  ['unit', unit],
  ['integration', integration],
]) {
  if (!report) {
    console.error(`${name}: no jest report found`);
    failed = true;
    continue;
  }
  passed += report.numPassedTests;
  failures += report.numFailedTests + report.numRuntimeErrorTestSuites;
  skipped += report.numPendingTests + report.numTodoTests;
  console.log(
    `${name}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped in ${report.numTotalTestSuites} suites`,
  );
}
if (integration && integration.numPendingTests + integration.numTodoTests > 0) {
  console.error('integration: tests were skipped; every integration suite must run against the real servers in CI');
  failed = true;
}
if (integration && integration.numTotalTests === 0) {
  console.error('integration: no tests ran');
  failed = true;
}
console.log(`${passed} passed, ${failures} failed, ${skipped} skipped`);
process.exit(failed || failures > 0 ? 1 : 0);
