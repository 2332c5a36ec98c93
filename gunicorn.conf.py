"""gunicorn settings for learnapp: `gunicorn -c gunicorn.conf.py wsgi:app` (see docs/deploy.md).

Every value can be overridden from the environment. Web workers never start a job scheduler.
"""

import multiprocessing
import os

bind = os.environ.get("LEARNAPP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LEARNAPP_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("LEARNAPP_THREADS", "1"))
timeout = int(os.environ.get("LEARNAPP_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then, with jitter so they do not restart together
max_requests_jitter = 200
accesslog = os.environ.get("LEARNAPP_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("LEARNAPP_FORWARDED_ALLOW_IPS", "127.0.0.1")
preload_app = False  # each worker opens its own database connections
