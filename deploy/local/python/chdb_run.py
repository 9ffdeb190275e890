"""Runs SQL on today's ClickHouse engine, in-process (chDB), for tests.

The only ClickHouse server installable on our CI machines is 18.16; users run 24.x
and later. The tests send the same migrations, data and dashboard queries here and
compare. Input (stdin, JSON):
  {"database": "adsync",
   "setup": ["CREATE TABLE ...", ...],                 # must all succeed, in order
   "inserts": [{"table": "t", "rows": "<JSONEachRow>"}],
   "queries": [{"id": "...", "sql": "SELECT ..."}]}    # each answered or its error reported
Output (stdout, JSON): {"engine": "26.x", "setup": [{"sql", "error"}...], "results": {id: {"rows": [...]}|{"error": "..."}}}
"""
import json
import sys
import tempfile

from chdb import session


def run(s, sql):
    return s.query(sql, "JSONEachRow")


def main():
    job = json.load(sys.stdin)
    out = {"setup": [], "results": {}}
    with tempfile.TemporaryDirectory() as path:
        s = session.Session(path)
        try:
            out["engine"] = str(s.query("SELECT version()", "TabSeparated")).strip()
            db = job.get("database", "adsync")
            s.query(f"CREATE DATABASE IF NOT EXISTS {db}")
            s.query(f"USE {db}")
            for sql in job.get("setup", []):
                try:
                    s.query(sql)
                    out["setup"].append({"sql": sql[:200], "error": None})
                except Exception as e:  # noqa: BLE001 — every failure is reported back to the test
                    out["setup"].append({"sql": sql[:200], "error": str(e)})
            for ins in job.get("inserts", []):
                if not ins["rows"].strip():
                    continue
                try:
                    s.query(f"INSERT INTO {ins['table']} FORMAT JSONEachRow\n{ins['rows']}")
                except Exception as e:  # noqa: BLE001
                    out["setup"].append({"sql": f"INSERT INTO {ins['table']}", "error": str(e)})
            for q in job.get("queries", []):
                try:
                    text = str(run(s, q["sql"]))
                    out["results"][q["id"]] = {"rows": [json.loads(line) for line in text.splitlines() if line.strip()]}
                except Exception as e:  # noqa: BLE001
                    out["results"][q["id"]] = {"error": str(e)}
        finally:
            s.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
