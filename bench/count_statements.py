"""SQL statements and writes per request, counted in-process with Django's
CaptureQueriesContext. Run by bench/run.py in a project's folder, with the same
environment as that project's gunicorn server:

    python bench/count_statements.py '[{"path": "/me/", "headers": {"Cookie": "..."}}]'

Each request is sent once uncounted (so a due activity write or a cold cache is not
charged to the steady state), then REPEAT times counted through Django's full
middleware stack (django.test.Client, the same headers wrk sends). Prints a JSON list:
statements and writes (INSERT, UPDATE, DELETE) per request, and the SQL of the last
counted request."""

import json
import os
import sys

# This file's folder is sys.path[0]; the project's folder (the working directory)
# must come first instead, and bench/ must not shadow anything.
sys.path[0] = os.getcwd()

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

REPEAT = 5
WRITES = ("INSERT", "UPDATE", "DELETE")


def count(path: str, headers: dict[str, str]) -> dict:
    client = Client(headers={"Host": "127.0.0.1", **headers})
    client.get(path)
    statements = writes = 0
    status = 0
    sql: list[str] = []
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as captured:
            status = client.get(path).status_code
        sql = [query["sql"] for query in captured]
        statements += len(sql)
        writes += sum(text.lstrip().upper().startswith(WRITES) for text in sql)
    return {
        "status": status,
        "statements": statements / REPEAT,
        "writes": writes / REPEAT,
        "sql": sql,
    }


def main() -> None:
    requests = json.loads(sys.argv[1])
    print(json.dumps([count(item["path"], item["headers"]) for item in requests]))


if __name__ == "__main__":
    main()
