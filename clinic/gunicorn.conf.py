"""gunicorn settings for `make serve` and deployments, read from the environment.

    gunicorn -c clinic/gunicorn.conf.py clinic.wsgi

PORT (default 8000) and BIND_ADDRESS (default 127.0.0.1) choose where to listen;
WEB_CONCURRENCY (default 2) is the number of worker processes and GUNICORN_THREADS
(default 4) the threads per worker. gthread workers keep one database connection per
thread, which CONN_MAX_AGE reuses and CONN_HEALTH_CHECKS re-opens after a database restart.
"""

import os

bind = f"{os.environ.get('BIND_ADDRESS', '127.0.0.1')}:{int(os.environ.get('PORT', '8000'))}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A request that takes longer than this is killed and its worker replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# Behind a TLS-terminating proxy on the same host only; widen with FORWARDED_ALLOW_IPS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
