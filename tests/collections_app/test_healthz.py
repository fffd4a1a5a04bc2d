import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_healthz_is_up_without_login(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


@pytest.mark.redis
def test_healthz_reports_real_redis(client, settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"ok": True, "transport": "redis"}


def test_healthz_503_when_the_broker_is_down(client, settings):
    # Nothing listens on port 1: a real refused connection, answered well within the timeout.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_healthz_503_when_the_database_fails(client):
    def refuse(execute, sql, params, many, context):
        raise OperationalError("database is down")

    with connection.execute_wrapper(refuse):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_healthz_refuses_post(client):
    assert client.post("/healthz/").status_code == 405
