"""The container's HEALTHCHECK: GET /healthz on this container's gunicorn.

Asked for the first host in DJANGO_ALLOWED_HOSTS: any other Host is refused with
400. The probes are exempt from the redirect to HTTPS (SECURE_REDIRECT_EXEMPT), so
plain HTTP inside the container is enough. Healthy only on 200."""

import http.client
import os
import sys

# The first address gunicorn.conf.py binds (GUNICORN_BIND, comma-separated).
PORT = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").split(",")[0].rsplit(":", 1)[-1]


def main() -> int:
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    headers = {"Host": (hosts[0] if hosts else "localhost").lstrip(".")}
    connection = http.client.HTTPConnection("127.0.0.1", int(PORT), timeout=4)
    try:
        connection.request("GET", "/healthz", headers=headers)
        status = connection.getresponse().status
    except OSError as error:
        print(f"/healthz did not answer: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"/healthz answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
