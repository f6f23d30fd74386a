#!/usr/bin/env bash
# Every benchmark whose figures are in the README. Takes a few minutes
# (a release build first, then 5 M generated lines).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/queuelake/target}"
export RUST_LOG=warn

# DuckDB's CSV reader is the reference for the backfill: the lake bench runs
# it round by round beside `queuelake ingest` on the same generated file.
python3 -m pip install -q duckdb

cargo bench --workspace --bench parse
cargo bench --workspace --bench decode
cargo bench --workspace --bench sim
cargo bench --workspace --bench lake
cargo bench --workspace --bench report

# DuckDB on one and on two threads, once more on its own.
python3 bench/duckdb_convert.py target/bench/queue_log_30d

# Crash safety at scale: 200 kill -9 during backfill, 50 during the tail,
# 500 at any instant of a tail whose files rotate (also while down), 100
# while the AMI journal fills and rotates; then a crash after every step
# of a commit, for `ingest` and for `serve`.
QUEUELAKE_KILLS=200 QUEUELAKE_TAIL_KILLS=50 QUEUELAKE_ROTATION_KILLS=500 \
  QUEUELAKE_JOURNAL_KILLS=100 \
  cargo test --release --workspace --test e2e kill_9 -- --nocapture
cargo test --release --workspace --test e2e crash_points -- --nocapture
bench/api_load.sh 20 64
