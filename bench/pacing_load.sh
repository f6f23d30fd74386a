#!/usr/bin/env bash
# Pacing under load: wrk against GET /api/v1/pacing/renewals on
# `queuelake demo` (release binary), whose emulated PBX dials the
# campaign live, so every request decides on a real floor (agents free,
# on calls, in wrap-up; calls in flight) with real estimates, and records
# the decision. wrk and the server share this machine's 2 cores.
#   bench/pacing_load.sh [seconds] [connections]
. "$(dirname "$0")/load-common.sh"

work="$(mktemp -d)"
trap 'kill -INT "${pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
# The demo's admin token, without a request rate limit for the run.
QUEUELAKE_SERVER__REQUESTS_PER_SECOND=0 RUST_LOG=warn "$BIN" demo --data "$work/demo" \
  --listen 127.0.0.1:0 --pg-listen 127.0.0.1:0 --history-weeks 1 > "$work/out" &
pid=$!
# The demo generates its history first: wait up to two minutes.
for _ in $(seq 1 1200); do
  grep -q '^listening on ' "$work/out" 2>/dev/null && break
  sleep 0.1
done
address=$(sed -n 's/^listening on //p' "$work/out")
token=$(sed -n 's/^admin token: //p' "$work/out")
url="$address/api/v1/pacing/renewals"
for _ in $(seq 1 100); do
  curl -sf -H "Authorization: Bearer $token" "$url" > "$work/decision" && break
  sleep 0.2
done
echo "a decision:"; cat "$work/decision"; echo
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency \
  -H "Authorization: Bearer $token" "$url"
echo "a decision after the run:"
curl -sf -H "Authorization: Bearer $token" "$url"; echo
