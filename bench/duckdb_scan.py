"""The bare-scan reference (benchmark (b)): DuckDB reads the archive, nothing else.

    python bench/duckdb_scan.py LOGS_DIR

``read_json`` over every ``*.json`` and ``*.json.gz`` below LOGS_DIR (newline-delimited,
gzip detected by extension), projecting the fields ``pullpath audit`` reads, counting rows and
non-null values (so that every projected field is really extracted). Damaged lines are
ignored, as a bare scan would. All CPUs; prints the counts as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

COLUMNS = {
    "time": "VARCHAR",
    "category": "VARCHAR",
    "resourceId": "VARCHAR",
    "operationName": "VARCHAR",
    "identity": "VARCHAR",
    "resultType": "VARCHAR",
    "resultDescription": "VARCHAR",
    "callerIpAddress": "VARCHAR",
    "properties": "STRUCT(repository VARCHAR, tag VARCHAR, loginServer VARCHAR)",
}


def scan(logs: Path) -> dict[str, int]:
    root = str(logs.resolve()).replace("'", "''")
    # only patterns that match (DuckDB fails on one that matches nothing: one plain file)
    patterns = [p for p in ("*.json", "*.json.gz") if next(logs.rglob(p), None) is not None]
    files = "[" + ", ".join(f"'{root}/**/{p}'" for p in patterns) + "]"
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    counted = [f'count("{k}")' for k in COLUMNS if k != "properties"]
    counted += [f"count(properties.{k})" for k in ("repository", "tag", "loginServer")]
    query = (
        f"SELECT count(*), {', '.join(counted)} FROM read_json({files}, "
        f"format='newline_delimited', columns={columns}, compression='auto_detect', "
        "ignore_errors=true, hive_partitioning=false, maximum_object_size=16777216)"
    )
    row = duckdb.connect().execute(query).fetchone()
    assert row is not None
    names = ["rows", *[k for k in COLUMNS if k != "properties"], "repository", "tag",
             "loginServer"]
    return dict(zip(names, (int(x) for x in row), strict=True))


if __name__ == "__main__":
    print(json.dumps(scan(Path(sys.argv[1]))))
