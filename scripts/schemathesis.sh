#!/usr/bin/env bash
# Property-based API testing: schemathesis (PyPI) generates requests from
# /api/v1/openapi.json — valid ones and malformed ones — against a running
# `queuelake serve`, and fails on any 5xx or on a response that does not
# match the description. Run by .ci/run; by hand:
#   scripts/schemathesis.sh [path/to/queuelake]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-${CARGO_TARGET_DIR:-target}/debug/queuelake}"
command -v st >/dev/null || pip install --quiet "schemathesis>=4,<5"

work="$(mktemp -d)"
trap 'kill "${pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
# A small day of calls to query.
now=$(date +%s)
{
  echo "$now|NONE|NONE|NONE|QUEUESTART|"
  for i in $(seq 1 50); do
    t=$((now + i * 7)); q=$([ $((i % 2)) = 0 ] && echo sales || echo support)
    echo "$t|$t.$i|$q|NONE|ENTERQUEUE||555$i|1"
    echo "$((t + 4))|$t.$i|$q|Agent $((i % 3))|CONNECT|4|$t.9$i|3"
    echo "$((t + 60))|$t.$i|$q|Agent $((i % 3))|COMPLETECALLER|4|40|1"
  done
} > "$work/queue_log"

# The per-token rate and failed sign-in limits are off: the run fuzzes the routes, not the
# limiters (429 is documented on every protected route and tested in e2e).
QUEUELAKE_SERVER__REQUESTS_PER_SECOND=0 QUEUELAKE_SERVER__AUTH_FAILURES_PER_SECOND=0 \
"$BIN" serve --data "$work/lake" --queue-log "$work/queue_log" \
  --listen 127.0.0.1:0 --no-pg > "$work/out" 2> "$work/err" &
pid=$!
. scripts/serve-address.sh
address=$(serve_address "$work/out")
token=$(sed -n 's/^admin token: //p' "$work/out")
[ -n "$address" ] && [ -n "$token" ] || { cat "$work/err"; exit 1; }

curl -sf -H "Authorization: Bearer $token" "$address/api/v1/openapi.json" > "$work/openapi.json"
# The SSE stream never ends; everything else is exercised.
st run "$work/openapi.json" --url "$address" \
  -H "Authorization: Bearer $token" \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-200}" \
  --exclude-path /api/v1/live/stream \
  --request-timeout 30
echo "schemathesis: no 5xx, responses match the description"
