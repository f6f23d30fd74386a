# Sourced by the load benches: arguments, wrk, the release binary.
#   SECONDS_RUN, CONNECTIONS from $1, $2 (defaults 20 s, 64); BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/queuelake/target}"
SECONDS_RUN="${1:-20}"
CONNECTIONS="${2:-64}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --workspace --bin queuelake
BIN="$CARGO_TARGET_DIR/release/queuelake"
