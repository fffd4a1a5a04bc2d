"""Property-based run of every API operation against the OpenAPI schema, in process (WSGI)."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from credentials.services import token_pair_obtain

pytestmark = pytest.mark.django_db
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Bounded so both runs (every operation, two users) stay well under a minute.
MAX_EXAMPLES = 15


def _run_all_operations(user) -> list[str]:
    headers = {"Authorization": f"Bearer {token_pair_obtain(user=user).access}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application(), headers=headers)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
        tested.append(operation.label)
    return tested


@pytest.fixture
def keep_db_connection():
    # As Django's test client does: the WSGI handler would otherwise close the test's connection
    # (and its transaction) after each request on PostgreSQL.
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.mark.parametrize("who", ["collector_a", "supervisor_x"])
def test_every_api_operation_conforms_to_the_schema(cast, case_a, keep_db_connection, who):
    tested = _run_all_operations(getattr(cast, who))
    assert "POST /api/v1/cases/{id}/transition/" in tested
    assert "GET /api/v1/accounts/" in tested
    assert {
        "GET /api/v1/visits/",
        "POST /api/v1/visits/",
        "GET /api/v1/visits/{id}/",
        "GET /api/v1/promises/",
        "POST /api/v1/promises/",
        "GET /api/v1/plans/",
        "POST /api/v1/plans/",
        "GET /api/v1/plans/{id}/",
        "POST /api/v1/plans/{id}/approve/",
        "POST /api/v1/plans/{id}/reject/",
        "GET /api/v1/payments/",
        "POST /api/v1/payments/",
        "GET /api/v1/screening/",
    } <= set(tested)
