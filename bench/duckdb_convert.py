"""DuckDB's CSV reader converting the same queue_log to Parquet: the
reference point for `queuelake ingest` (run by bench/run.sh and, round by
round, by `cargo bench --bench lake`).

Usage: duckdb_convert.py FILE [THREADS ...]   (default: 1 and 2 threads)"""
import os
import sys
import tempfile
import time

import duckdb

src = sys.argv[1]
thread_counts = [int(t) for t in sys.argv[2:]] or [1, 2]
lines = sum(1 for _ in open(src, "rb"))
columns = {"ts": "BIGINT", "callid": "VARCHAR", "queue": "VARCHAR", "agent": "VARCHAR", "event": "VARCHAR",
           "data1": "VARCHAR", "data2": "VARCHAR", "data3": "VARCHAR", "data4": "VARCHAR", "data5": "VARCHAR"}
for threads in thread_counts:
    out = os.path.join(tempfile.mkdtemp(), "queue_log.parquet")
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    started = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{src}', delim='|', header=false, quote='', escape='', "
        f"null_padding=true, strict_mode=false, auto_detect=false, columns={columns})) TO '{out}' (FORMAT parquet, COMPRESSION snappy)"
    )
    secs = time.perf_counter() - started
    os.remove(out)
    print(f"duckdb {duckdb.__version__} csv→parquet, {threads} thread(s): {lines} lines in {secs:.2f} s = {lines / secs / 1e6:.2f} M lines/s")
