#!/usr/bin/env bash
# Install alwidget with its test extras and run the whole test suite (unit, widget, notebooks,
# real browser). Used verbatim by the README and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
# deep: torch==2.13.0, the CPU wheel on this machine's local index (never a bare
# "pip install torch": that downloads gigabytes of CUDA)
python -m pip install -q -e ".[test,deep,text,images]"
python -m ruff check .
python -m ruff format --check .
python -m mypy
set +e
python -m pytest -ra "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$code"
