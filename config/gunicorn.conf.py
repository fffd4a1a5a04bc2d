"""gunicorn settings for ``make serve`` and production (README, "Deploying").

Every value can be overridden from the environment: GUNICORN_BIND (or HOST and PORT), WEB_CONCURRENCY,
GUNICORN_THREADS, GUNICORN_TIMEOUT. Sync workers, one request at a time each, and one database
connection each: ``WEB_CONCURRENCY`` is also the number of PostgreSQL connections a server holds.
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Rendering pages is CPU work: about one worker per core, plus one to cover a request waiting on the database.
workers = int(os.environ.get("WEB_CONCURRENCY") or (os.cpu_count() or 1) + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# A stop (SIGTERM) lets requests in flight finish for at most 4 s: the supervisor's 5 s grace covers it.
graceful_timeout = 4
keepalive = 5
# Recycle workers now and then so a slow leak never grows without bound; jitter avoids restarting all at once.
max_requests = 2000
max_requests_jitter = 200
# Load the app once in the master: workers fork with Django already imported (less memory, faster starts).
preload_app = True
# The app logs every request itself (with its request id, PII-masked); gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "doorstep-web"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus counters of every worker, summed at /metrics (prometheus_client's multiprocess mode).
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(
    Path(os.environ.get("DOORSTEP_VAR_DIR", Path(__file__).resolve().parent.parent / "var")) / "prometheus"
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server):
    # Counters from an earlier run would be summed in: start from zero.
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    Path(_metrics_dir).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
