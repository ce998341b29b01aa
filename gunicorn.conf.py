"""gunicorn's settings for `make serve`, each overridable from the environment."""

from securityportal.env import envint, envlist, envstr
from securityportal.serving import worker_count

wsgi_app = "securityportal.wsgi:application"
bind = envlist("GUNICORN_BIND", ["127.0.0.1:8000"])

# Without Redis, one process: sign-in lockout and rate-limit counters then live in
# one process's memory and hold (securityportal.serving.worker_count).
workers = worker_count(shared_cache=bool(envstr("REDIS_URL", "")))
# Threads let one process serve a request while another waits on the database.
worker_class = "gthread"
threads = envint("GUNICORN_THREADS", 4, minimum=1)
# A request still running after this long is killed and its worker replaced, so a
# slow client or a stuck query cannot hold a worker for ever.
timeout = envint("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = envint("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
keepalive = 5
# Each worker is replaced after about this many requests: a slow leak stays small.
max_requests = envint("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# The access log on stdout: who, when, what, how it went, how long. No query string,
# no Referer, no header but the user agent, and token-like path segments redacted:
# the log is read by more people than may sign in as the users in it.
accesslog = "-"
errorlog = "-"
logger_class = "securityportal.serving.AccessLogger"
# The request id the portal answered with joins this line to the portal's own lines.
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
)

# Believe X-Forwarded-* (the client's address, HTTPS) only from the proxies in
# front, and only when TRUSTED_PROXY_COUNT says there are some; otherwise any
# client could claim another address or HTTPS.
forwarded_allow_ips = (
    envstr("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if envint("TRUSTED_PROXY_COUNT", 0) else ""
)
