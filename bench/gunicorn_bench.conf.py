"""gunicorn's settings for every server of make bench, the portal's and its peers' alike
(bench/services.py passes it with --config, and the worker count, worker class, bind
address and log level on the command line).

Each setting is gunicorn's default, written out because the portal's deployment
(gunicorn.conf.py) sets it otherwise: no access log (the portal still writes its own
access line, securityportal.logs, as its application does in production), and no worker
replaced during a run."""

accesslog = None
max_requests = 0
