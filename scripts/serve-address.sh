# Sourced by the scripts that start `queuelake serve` in the background:
# `serve_address OUT` waits (up to 10 s) for the server writing its stdout
# to OUT to print `listening on …`, then prints the address.
serve_address() {
  for _ in $(seq 1 100); do
    grep -q '^listening on ' "$1" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/^listening on //p' "$1"
}
