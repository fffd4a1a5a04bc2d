"""The primary/replica router: read-only pages may read from the replica while its lag guard passes; writes and
everything else use the primary."""

import socket

import pytest
from django.db import connection, transaction
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.urls import reverse

from collections_app.db_routing import read_replica, replica_reads, replica_reads_wanted
from collections_app.models import Case
from config import db_router
from config.db_router import PRIMARY, REPLICA, LagProbe, PrimaryReplicaRouter, choose_read_alias

DECIDE = {"wanted": True, "configured": True, "in_write_transaction": False, "max_lag": 5.0}


@pytest.mark.parametrize(
    ("changes", "alias"),
    [
        ({"lag": 0.0}, REPLICA),
        ({"lag": 5.0}, REPLICA),
        ({"lag": 5.01}, PRIMARY),
        ({"lag": None}, PRIMARY),
        ({"lag": 0.0, "wanted": False}, PRIMARY),
        ({"lag": 0.0, "configured": False}, PRIMARY),
        ({"lag": 0.0, "in_write_transaction": True}, PRIMARY),
    ],
)
def test_reads_go_to_the_replica_only_when_wanted_configured_fresh_and_outside_a_write(changes, alias):
    assert choose_read_alias(**{**DECIDE, **changes}) == alias


def test_the_routing_context_is_off_by_default_and_restored_after_use():
    assert replica_reads_wanted() is False
    with read_replica():
        assert replica_reads_wanted() is True
        with read_replica():
            assert replica_reads_wanted() is True
        assert replica_reads_wanted() is True
    assert replica_reads_wanted() is False

    @replica_reads
    def view():
        return replica_reads_wanted()

    assert view() is True
    assert replica_reads_wanted() is False


class _FixedProbe(LagProbe):
    def __init__(self, lag):
        super().__init__()
        self.value = lag
        self.measured = 0

    def measure(self):
        self.measured += 1
        return self.value


@pytest.fixture
def replica(monkeypatch):
    """A configured replica whose measured lag the test sets."""
    probe = _FixedProbe(0.0)
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)
    monkeypatch.setattr(db_router, "probe", probe)
    return probe


def test_router_sends_reads_in_the_context_to_a_fresh_replica(replica):
    router = PrimaryReplicaRouter()
    assert router.db_for_read(Case) == PRIMARY
    with read_replica():
        assert router.db_for_read(Case) == REPLICA
        assert router.db_for_write(Case) == PRIMARY


def test_router_falls_back_to_the_primary_when_the_replica_lags_or_is_down(replica):
    router = PrimaryReplicaRouter()
    with read_replica():
        replica.value = 30.0
        replica.forget()
        assert router.db_for_read(Case) == PRIMARY
        replica.value = None
        replica.forget()
        assert router.db_for_read(Case) == PRIMARY


def test_lag_is_measured_at_most_once_per_period(replica):
    router = PrimaryReplicaRouter()
    with read_replica():
        for _ in range(20):
            router.db_for_read(Case)
    assert replica.measured == 1


def test_nothing_is_read_from_the_replica_without_one_configured(monkeypatch):
    monkeypatch.setattr(db_router, "probe", _FixedProbe(0.0))
    with read_replica():
        assert PrimaryReplicaRouter().db_for_read(Case) == PRIMARY
    assert db_router.probe.measured == 0


@pytest.mark.django_db
def test_reads_inside_a_write_transaction_stay_on_the_primary(replica):
    # pytest-django wraps this test in a transaction, as a view that writes an audit row is.
    with transaction.atomic(), read_replica():
        assert PrimaryReplicaRouter().db_for_read(Case) == PRIMARY
    assert replica.measured == 0


def test_router_migrates_only_the_primary():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate(PRIMARY, "collections_app") is True
    assert router.allow_migrate(REPLICA, "collections_app") is False


@pytest.mark.django_db
def test_probe_reads_no_lag_from_a_server_that_is_not_a_standby():
    probe = LagProbe(alias="default")
    assert probe.lag() == 0.0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.postgres
@pytest.mark.django_db
def test_probe_reports_a_replica_that_refuses_connections_as_down():
    down = PostgresWrapper(
        {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": _closed_port(), "OPTIONS": {"connect_timeout": 2}},
        alias="replica-down",
    )

    class DownProbe(LagProbe):
        def connection(self):
            return down

    assert DownProbe().lag() is None


@pytest.fixture
def spy_routing(monkeypatch, replica):
    """Records, for each read the router routes, whether the page asked for replica reads."""
    seen: list[bool] = []

    def wanted():
        seen.append(replica_reads_wanted())
        return False  # still read the test database

    monkeypatch.setattr(db_router, "replica_reads_wanted", wanted)
    return seen


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["dashboard", "screening", "api:screening-list", "api-dashboard"])
def test_read_only_pages_ask_for_replica_reads(client, cast, spy_routing, name):
    client.force_login(cast.supervisor_x)
    assert client.get(reverse(name)).status_code == 200
    assert True in spy_routing


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["case-list", "assignments", "api:case-list"])
def test_working_pages_read_from_the_primary(client, cast, spy_routing, name):
    client.force_login(cast.supervisor_x)
    assert client.get(reverse(name)).status_code == 200
    assert spy_routing
    assert True not in spy_routing
