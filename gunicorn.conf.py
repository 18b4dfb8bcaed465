"""gunicorn's settings, read from the working directory by `gunicorn naphs.wsgi` (docker-compose.yml, the
Dockerfile, and the production-like test, which all run that same command).

GUNICORN_BIND (default 0.0.0.0:8000, every interface of the container) and WEB_CONCURRENCY (default 3 worker
processes) come from the environment.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # every interface of the container
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 60
accesslog = "-"
