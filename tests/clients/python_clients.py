"""Real Python analyst clients against queuelake's PostgreSQL port.

Run by the e2e test `clients`: for each driver — psycopg, SQLAlchemy with
pandas (read_sql through an engine, table reflection), asyncpg — connect
with a token as password, list the tables, list the columns of `calls`,
and run one parameterised query. Prints one JSON object: per driver,
{"tables": [...], "columns": [...], "rows": [[...], ...]} or {"error": "..."}.

Usage: python_clients.py PORT TOKEN QUERY PARAM
QUERY holds `{p}` where the driver's placeholder goes.
"""

import asyncio
import json
import sys
import traceback


def failure(e):
    return {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}


def plain(value):
    """A value as JSON can hold it (numpy and decimal types included)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)


def with_psycopg(port, token, query, param):
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user="analyst", password=token, dbname="queuelake"
    ) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY table_name"
            )
            tables = [r[0] for r in cur.fetchall()]
            cur.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s ORDER BY ordinal_position",
                ("calls",),
            )
            columns = [r[0] for r in cur.fetchall()]
            cur.execute(query.format(p="%s"), (param,))
            rows = [[plain(v) for v in r] for r in cur.fetchall()]
    return {"tables": tables, "columns": columns, "rows": rows}


def with_sqlalchemy(port, token, query, param):
    import pandas
    import sqlalchemy

    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg://analyst:{token}@127.0.0.1:{port}/queuelake"
    )
    try:
        inspector = sqlalchemy.inspect(engine)
        tables = sorted(inspector.get_table_names() + inspector.get_view_names())
        columns = [c["name"] for c in inspector.get_columns("calls")]
        frame = pandas.read_sql(
            sqlalchemy.text(query.format(p=":p")), engine, params={"p": param}
        )
        rows = [[plain(v) for v in r] for r in frame.itertuples(index=False)]
    finally:
        engine.dispose()
    return {"tables": tables, "columns": columns, "rows": rows}


def with_asyncpg(port, token, query, param):
    import asyncpg

    async def run():
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user="analyst", password=token,
            database="queuelake", ssl=False,
        )
        try:
            tables = [
                r[0]
                for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.tables ORDER BY table_name"
                )
            ]
            columns = [
                r[0]
                for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = $1 ORDER BY ordinal_position",
                    "calls",
                )
            ]
            rows = [[plain(v) for v in r] for r in await conn.fetch(query.format(p="$1"), param)]
        finally:
            await conn.close()
        return {"tables": tables, "columns": columns, "rows": rows}

    return asyncio.run(run())


def main():
    port, token, query, param = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    out = {}
    for name, client in [
        ("psycopg", with_psycopg),
        ("sqlalchemy", with_sqlalchemy),
        ("asyncpg", with_asyncpg),
    ]:
        try:
            out[name] = client(port, token, query, param)
        except Exception as e:  # every driver is tried; the test names each failure
            out[name] = failure(e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
