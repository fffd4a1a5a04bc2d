"""Schemathesis over the whole API, as ``schemathesis run --checks all`` does it, for each role.

The engine runs every phase (explicit examples, coverage of each constraint's edges, fuzzing with valid
and invalid data, stateful sequences) with every check: no 500, documented status codes and content
types, responses that match their schema, schema-violating requests refused (4xx) and schema-valid
ones accepted (2xx, or 401/403/404/409: not permitted, not found, refused by a business rule). It
talks to the app in process (WSGI) with the cast's data committed, since the engine works from threads.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import connections
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.specs.openapi import _auth_retry

from credentials.services import token_pair_obtain

pytestmark = pytest.mark.django_db(transaction=True)
# Bounded so the three runs stay under three minutes together.
MAX_EXAMPLES = 10
SEED = 20261206


class ClosingApp:
    """Django's WSGI handler, closing each response and the database connections of the engine thread
    that sent the request, so none outlives the test."""

    def __init__(self):
        self.app = get_wsgi_application()

    def __call__(self, environ, start_response):
        response = self.app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()
            connections.close_all()


@pytest.fixture
def in_process_probes(monkeypatch):
    # Schemathesis sends its "no credentials" probe (the ignored_auth check) with the engine's socket
    # settings, which the in-process WSGI client does not take; a network server would not notice.
    build = _auth_retry.build_retry_transport_kwargs

    def without_socket_settings(*args, **kwargs):
        result = build(*args, **kwargs)
        for name in ("max_redirects", "verify", "cert", "proxies", "timeout"):
            result.pop(name, None)
        return result

    monkeypatch.setattr(_auth_retry, "build_retry_transport_kwargs", without_socket_settings)


def _failures(user) -> tuple[list[str], set[str]]:
    headers = {"Authorization": f"Bearer {token_pair_obtain(user=user).access}"}
    config = SchemathesisConfig.from_dict(
        {
            "headers": headers,
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
            "checks": {"enabled": True},
            "suppress-health-check": ["all"],
            "cache": {"enabled": False},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", ClosingApp(), headers=headers, config=config)
    failures, tested = [], set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            tested.add(event.recorder.label)
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.failure_info is not None:
                        failure = node.failure_info.failure
                        failures.append(
                            f"[{event.phase.value}] {event.recorder.label} {node.name}: {failure.title}\n"
                            f"{failure.message}\n{node.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            failures.append(f"error in {event.label}: {event.value!r}")
        elif isinstance(event, events.EngineFinished):
            failures.extend(str(f) for f in event.failures)
    return failures, tested


@pytest.mark.parametrize("who", ["manager", "supervisor_x", "collector_a"])
def test_every_api_operation_passes_every_schemathesis_check(cast, case_a, in_process_probes, who):
    failures, tested = _failures(getattr(cast, who))
    assert not failures, "\n\n".join(failures)
    assert {
        "POST /api/v1/auth/token/",
        "GET /api/v1/accounts/",
        "GET /api/v1/cases/",
        "POST /api/v1/cases/",
        "POST /api/v1/cases/{id}/transition/",
        "POST /api/v1/cases/{id}/assign/",
        "GET /api/v1/visits/",
        "POST /api/v1/visits/",
        "GET /api/v1/promises/",
        "POST /api/v1/promises/",
        "GET /api/v1/plans/",
        "POST /api/v1/plans/",
        "POST /api/v1/plans/{id}/approve/",
        "GET /api/v1/payments/",
        "POST /api/v1/payments/",
        "GET /api/v1/screening/",
        "GET /api/v1/dashboard/",
    } <= tested
