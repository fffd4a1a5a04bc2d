"""Request ids, JSON logs and Prometheus metrics (README, "Deploying" and "Runbooks").

A request id comes in as ``X-Request-ID`` (from the load balancer) or is made here, goes out on the
response, is on every log line the request writes and travels in the headers of every Celery task it
enqueues, so a task's log lines carry the id of the request that caused it.
"""

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def bind_request_id(value: str | None) -> contextvars.Token:
    """Use a well-formed incoming id, else a new one (never trust a client's header into the logs raw)."""
    return _request_id.set(value if value and _VALID_ID.match(value) else uuid.uuid4().hex)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


# --- logging ------------------------------------------------------------------------------------
class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``LOG_FORMAT=json``); the message is already PII-masked by the filter."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("method", "status", "duration_ms", "queries"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


# --- Celery: the request id rides in the task headers -------------------------------------------
def stamp_task_headers(sender=None, headers=None, **kwargs) -> None:
    """before_task_publish: copy the current request id into the message headers."""
    request_id = _request_id.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


def bind_task_request_id(sender=None, task_id=None, task=None, **kwargs) -> None:
    """task_prerun: log the task's lines under the id of the request that enqueued it (or a new one)."""
    request = getattr(task, "request", None)
    value = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get("request_id")
    _task_tokens[task_id] = bind_request_id(value)


def unbind_task_request_id(sender=None, task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        unbind_request_id(token)


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(stamp_task_headers, weak=False, dispatch_uid="doorstep-request-id-publish")
    task_prerun.connect(bind_task_request_id, weak=False, dispatch_uid="doorstep-request-id-prerun")
    task_postrun.connect(unbind_task_request_id, weak=False, dispatch_uid="doorstep-request-id-postrun")


# --- request metrics ----------------------------------------------------------------------------
REQUESTS = Counter("doorstep_http_requests", "Requests answered, by view and status.", ["method", "view", "status"])
LATENCY = Histogram(
    "doorstep_http_request_duration_seconds",
    "Time to answer a request, by view.",
    ["view"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
QUERIES = Histogram(
    "doorstep_http_request_db_queries",
    "Database queries a request made, by view.",
    ["view"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 250),
)
request_logger = logging.getLogger("doorstep.request")


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestObservabilityMiddleware:
    """First in the chain: binds the request id, counts queries, records latency, logs one line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import connection

        token = bind_request_id(request.headers.get(REQUEST_ID_HEADER))
        counter = _QueryCounter()
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(counter):
                response = self.get_response(request)
            response[REQUEST_ID_HEADER] = _request_id.get()
            self._record(request, response.status_code, time.perf_counter() - started, counter.count)
            return response
        finally:
            unbind_request_id(token)

    def _record(self, request, status: int, seconds: float, queries: int) -> None:
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else "unmatched"
        REQUESTS.labels(request.method, view, str(status)).inc()
        LATENCY.labels(view).observe(seconds)
        QUERIES.labels(view).observe(queries)
        request_logger.info(
            "%s %s %s %.0fms %d queries",
            request.method,
            request.path,
            status,
            seconds * 1000,
            queries,
            extra={
                "method": request.method,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "queries": queries,
            },
        )
