"""/metrics (allow-listed), request ids from the request into the logs and into Celery tasks, JSON logs."""

import io
import json
import logging
from types import SimpleNamespace

import pytest
from django.utils import timezone

from config import observability

pytestmark = pytest.mark.django_db


def _metric(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name)]


def test_metrics_answers_the_allowed_address_only(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 404


def test_metrics_show_requests_latency_queries_queue_sweep_and_imports(client, cast, case_a, settings):
    from collections_app.models import ImportJob
    from repayment.models import FollowUpCheck

    overdue = timezone.now() - timezone.timedelta(minutes=10)
    FollowUpCheck.objects.create(
        kind=FollowUpCheck.Kind.REMINDER, case=case_a, due_at=overdue, dedupe_key="metrics-test"
    )
    ImportJob.objects.create(filename="feed.csv", status=ImportJob.Status.RUNNING, total_rows=200, processed_rows=50)
    client.get("/healthz/")

    text = client.get("/metrics").content.decode()
    assert 'doorstep_http_requests_total{method="GET",status="200",view="healthz"}' in text
    assert _metric(text, 'doorstep_http_request_duration_seconds_count{view="healthz"}')
    assert _metric(text, 'doorstep_http_request_db_queries_sum{view="healthz"}')
    assert _metric(text, 'doorstep_celery_queue_depth{queue="celery"}')
    (lag,) = _metric(text, "doorstep_followup_sweep_lag_seconds ")
    assert 600 <= float(lag.split()[1]) < 3600
    assert "doorstep_followup_checks_due 1.0" in text
    assert 'doorstep_imports{status="running"} 1.0' in text
    assert any(line.endswith(" 0.25") for line in _metric(text, "doorstep_import_progress_ratio"))
    assert _metric(text, "doorstep_import_heartbeat_age_seconds")
    assert "doorstep_metrics_source_up" not in text, "every source was readable"


def test_an_unreadable_source_is_reported_without_failing_the_scrape(client, monkeypatch):
    from config import metrics

    def broken():
        raise OSError("broker folder gone")

    monkeypatch.setattr(metrics, "celery_queue_depth", broken)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert 'doorstep_metrics_source_up{source="queue"} 0.0' in response.content.decode()
    assert "doorstep_followup_sweep_lag_seconds" in response.content.decode()


def test_the_request_id_is_taken_from_the_request_or_made_and_returned(client):
    assert client.get("/healthz/", HTTP_X_REQUEST_ID="lb-1234.abc")["X-Request-ID"] == "lb-1234.abc"
    made = client.get("/healthz/")["X-Request-ID"]
    assert len(made) == 32
    # A header that could forge log lines is replaced, never echoed.
    forged = client.get("/healthz/", HTTP_X_REQUEST_ID="x\n{evil}")["X-Request-ID"]
    assert forged != "x\n{evil}" and len(forged) == 32


def test_the_request_log_line_carries_the_request_id(client, caplog):
    caplog.set_level(logging.INFO, logger="doorstep.request")
    client.get("/healthz/", HTTP_X_REQUEST_ID="req-42")
    (record,) = [r for r in caplog.records if r.name == "doorstep.request"]
    assert record.getMessage().startswith("GET /healthz/ 200")
    assert observability.RequestIdFilter().filter(record) and record.request_id == "-"  # unbound after the request


def test_the_request_id_travels_into_celery_tasks():
    token = observability.bind_request_id("req-77")
    try:
        headers = {}
        observability.stamp_task_headers(sender="repayment.tasks.sweep_followups", headers=headers)
    finally:
        observability.unbind_request_id(token)
    assert headers == {"request_id": "req-77"}
    assert observability.current_request_id() == ""

    # Celery puts custom message headers on the task's request.
    task = SimpleNamespace(request=SimpleNamespace(request_id="req-77"))
    observability.bind_task_request_id(task_id="t1", task=task)
    assert observability.current_request_id() == "req-77"
    observability.unbind_task_request_id(task_id="t1")
    assert observability.current_request_id() == ""


def test_celery_publishes_with_the_request_id_header():
    from celery import current_app
    from celery.signals import before_task_publish

    assert any("doorstep-request-id-publish" in str(receiver[0]) for receiver in before_task_publish.receivers)
    assert current_app.conf.worker_concurrency >= 1


def test_json_log_lines_hold_the_request_id_and_masked_message():
    from collections_app.logging import PIIScrubFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.JsonFormatter())
    handler.addFilter(PIIScrubFilter())
    handler.addFilter(observability.RequestIdFilter())
    logger = logging.getLogger("tests.ops.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = observability.bind_request_id("req-9")
    try:
        logger.info("called %s", "13812345678", extra={"status": 200})
    finally:
        observability.unbind_request_id(token)
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["request_id"] == "req-9" and entry["message"] == "called 138****5678"
    assert entry["level"] == "INFO" and entry["status"] == 200
    assert entry["time"].endswith("+00:00")
