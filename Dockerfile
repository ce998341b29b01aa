# Security Portal behind gunicorn: Debian slim, the pinned runtime requirements only,
# static files collected into the image, run as an unprivileged user. Configuration
# comes from the environment at run time (docs/DEPLOY.md lists every variable).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # gunicorn.conf.py binds 127.0.0.1 by default; in a container the port is
    # published, so listen on every interface of the container's own network.
    GUNICORN_BIND=0.0.0.0:8000

WORKDIR /app

# The runtime section of requirements.txt, everything above "# Tests and lint": no
# test runner, linter or browser driver in the image.
COPY requirements.txt ./
RUN sed '/^# Tests and lint/,$d' requirements.txt > /tmp/runtime-requirements.txt \
    && pip install -r /tmp/runtime-requirements.txt \
    && rm /tmp/runtime-requirements.txt

# The code belongs to root and is only readable by the user the server runs as: a
# compromised worker cannot rewrite the application or its static files.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --shell /usr/sbin/nologin portal
COPY . .

# Static files collected (hashed names, compressed) at build time; the key is only
# needed to load the settings, signs nothing and is not kept in the image.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    python manage.py collectstatic --noinput --verbosity 0

USER portal
EXPOSE 8000

# Liveness: /healthz answers without the database or Redis (docker/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "docker/healthcheck.py"]

# The deploy checks first, as `make serve` runs them: an error among them (the
# placeholder secret key of .env.example, say) stops the container before it serves.
# gunicorn.conf.py sizes the workers (WEB_CONCURRENCY), threads, timeouts and logs.
# Each worker's heartbeat file lives in /dev/shm, the container's own tmpfs: in /tmp
# (the image's disk-backed layer) a slow disk can stall the heartbeat until the
# arbiter kills a healthy worker, and /dev/shm stays writable with --read-only.
CMD ["sh", "-c", "python manage.py check --deploy --fail-level ERROR && exec gunicorn --config gunicorn.conf.py --worker-tmp-dir /dev/shm"]
