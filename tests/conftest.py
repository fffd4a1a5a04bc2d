"""The fixed cast: two teams in two branches, a collector and a supervisor in each, a manager."""

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.test import Client

from collections_app.models import Role, Stage
from collections_app.services.cases import case_assign, case_open
from tests.factories import AccountFactory, BranchFactory, TeamFactory, UserFactory

IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database opts out of the audit table's TRUNCATE refusal (migration 0015): transactional tests
    are flushed with TRUNCATE. Connections opened later read the database's setting; this one is set here."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                name = connection.ops.quote_name(connection.settings_dict["NAME"])
                cursor.execute(f"ALTER DATABASE {name} SET doorstep.allow_audit_truncate = 'on'")
                cursor.execute("SET doorstep.allow_audit_truncate = 'on'")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs seconds per test for the cast's nine users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _AxesAwareClient(Client):
    def login(self, **credentials):
        # django-axes refuses authenticate() without a request; a bare one counts as "no IP".
        credentials.setdefault("request", HttpRequest())
        return super().login(**credentials)


@pytest.fixture
def client() -> Client:
    """pytest-django's ``client``, whose ``login()`` keeps working with django-axes."""
    return _AxesAwareClient()


@dataclass
class Cast:
    branch_a: object
    branch_b: object
    team_x: object
    team_y: object
    collector_a: object
    collector_a2: object
    collector_b: object
    supervisor_x: object
    supervisor_y: object
    manager: object
    admin: object


@pytest.fixture
def cast(db) -> Cast:
    branch_a = BranchFactory(code="SZ01", name="Suzhou", region="苏州")
    branch_b = BranchFactory(code="WX01", name="Wuxi", region="无锡")
    supervisor_x = UserFactory(username="supervisor_x", role=Role.SUPERVISOR)
    supervisor_y = UserFactory(username="supervisor_y", role=Role.SUPERVISOR)
    team_x = TeamFactory(branch=branch_a, name="X", supervisor=supervisor_x)
    team_y = TeamFactory(branch=branch_b, name="Y", supervisor=supervisor_y)
    for supervisor, team in ((supervisor_x, team_x), (supervisor_y, team_y)):
        supervisor.team = team
        supervisor.save(update_fields=["team"])
    return Cast(
        branch_a=branch_a,
        branch_b=branch_b,
        team_x=team_x,
        team_y=team_y,
        collector_a=UserFactory(username="collector_a", role=Role.COLLECTOR, team=team_x, region="苏州"),
        collector_a2=UserFactory(username="collector_a2", role=Role.COLLECTOR, team=team_x, region="苏州"),
        collector_b=UserFactory(username="collector_b", role=Role.COLLECTOR, team=team_y, region="无锡"),
        supervisor_x=supervisor_x,
        supervisor_y=supervisor_y,
        manager=UserFactory(username="manager", role=Role.MANAGER),
        admin=UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True),
    )


@pytest.fixture
def case_a(cast):
    """An open case of team X assigned to collector A, in screening."""
    account = AccountFactory(branch=cast.branch_a)
    case = case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
    return case_assign(case=case, collector=cast.collector_a, actor=cast.supervisor_x)


@pytest.fixture
def case_in_stage(case_a, cast):
    """Factory: collector A's case walked along the happy path to ``stage``."""
    from collections_app.services.cases import case_transition
    from tests.factories import agreement_ready, visit_plan_ready

    path = [Stage.PREPARATION, Stage.VISIT, Stage.NEGOTIATION, Stage.FOLLOW_UP]

    def make(stage):
        for target in path:
            if case_a.stage == stage:
                break
            if target == Stage.VISIT:
                visit_plan_ready(case_a, cast.collector_a)
            if target == Stage.FOLLOW_UP:
                agreement_ready(case_a, cast.collector_a)
            case_transition(case=case_a, target=target, actor=cast.collector_a)
        assert case_a.stage == stage
        return case_a

    return make


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _require(service: str, available: bool) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{service} is required in CI but is not configured or not reachable.")
    pytest.skip(f"{service} not available locally")


@pytest.fixture
def require_postgres(db):
    from django.db import connection

    _require("PostgreSQL", connection.vendor == "postgresql")


@pytest.fixture
def redis_url():
    url = settings.REDIS_URL or ""
    _require("Redis", bool(url) and _reachable(url, 6379))
    return url


@pytest.fixture(autouse=True)
def _service_requirements(request):
    """Tests marked postgres/redis skip locally without the service and fail in CI."""
    if request.node.get_closest_marker("postgres"):
        request.getfixturevalue("require_postgres")
    if request.node.get_closest_marker("redis"):
        request.getfixturevalue("redis_url")


def _celery_eagerness(value: bool):
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = value
    yield
    app.conf.task_always_eager = old  # the Celery app outlives a test: never leak the setting


@pytest.fixture
def celery_eager():
    """Tasks run in the calling process, as if a worker took them at once."""
    yield from _celery_eagerness(True)


@pytest.fixture
def celery_not_eager():
    """Tasks go to the broker (or fail to), as in production."""
    yield from _celery_eagerness(False)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in Chinese leaves its language active on the
    thread (the locale middleware activates it and nothing deactivates it), and the next test's English
    messages would read in Chinese."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
