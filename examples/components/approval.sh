#!/usr/bin/env bash
# The approval component end to end: build it with componentize-py, run it as a Golem worker
# with `golem-promise run` (it creates a promise and waits), and approve the request from
# another process with `golem-promise complete`, as a webhook or a person would.
#
#   bash examples/components/approval.sh        (with golem-promise and componentize-py on PATH,
#                                                e.g. after `make venv && . .venv/bin/activate`)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}

# 1. Build (about 10 s the first time; cached by source hash under build/components).
wasm=$("$python" "$root/scripts/build-component.py" --wit "$here/wit" --world approval --app "$here/approval")
echo "built $wasm"

# 2. Run the worker's run-approval in the background; it prints the promise it awaits.
export GOLEM_PROMISE_DB=${GOLEM_PROMISE_DB:-$PWD/approval-example.db}
worker=7e57ab1e-0000-4000-8000-000000000042/expenses
out=$(mktemp)
trap 'rm -f "$out"' EXIT
golem-promise run "$wasm" --worker "$worker" --invoke 'golem:it/api.{run-approval}' '"expense-42"' > "$out" &
run=$!
until grep -q "awaits promise" "$out"; do
    kill -0 "$run" 2> /dev/null || { wait "$run"; exit 1; }
    sleep 0.1
done
promise=$(sed -n 's/.*awaits promise //p' "$out")
echo "the worker waits on $promise"

# 3. Someone else decides: any process that can open the database (or the HTTP endpoint).
golem-promise complete "$promise" --json '{"approved": true, "by": "ana"}'

# 4. The invocation resumes and prints its result as JSON.
wait "$run"
cat "$out"
