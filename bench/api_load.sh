#!/usr/bin/env bash
# HTTP load on loopback: wrk against an authenticated cheap endpoint
# (GET /api/v1/me: token check, rate-limit bucket, role check, request id,
# access log, metrics, JSON), on the release binary. wrk and the server
# share this machine's 2 cores. Prints wrk's summary with its latency
# percentiles.
#   bench/api_load.sh [seconds] [connections]
. "$(dirname "$0")/load-common.sh"

work="$(mktemp -d)"
trap 'kill "${pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
echo "$(date +%s)|NONE|NONE|NONE|QUEUESTART|" > "$work/queue_log"
# The load token is not rate limited (requests_per_second = 0 for it).
token="ql_load_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
digest=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
cat > "$work/queuelake.toml" <<TOML
version = 1
[[tokens]]
name = "load"
role = "viewer"
sha256 = "$digest"
requests_per_second = 0
TOML
RUST_LOG=warn "$BIN" serve --data "$work/lake" --queue-log "$work/queue_log" \
  --config "$work/queuelake.toml" --listen 127.0.0.1:0 --no-pg > "$work/out" &
pid=$!
. scripts/serve-address.sh
address=$(serve_address "$work/out")
curl -sf -H "Authorization: Bearer $token" "$address/api/v1/me" > /dev/null
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency \
  -H "Authorization: Bearer $token" "$address/api/v1/me"
