"""Races on real PostgreSQL with real threads: each thread is its own request on its own connection."""

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import connection
from rest_framework.test import APIClient

from collections_app.models import Stage
from collections_app.services.cases import case_assign, case_open, case_transition
from credentials.services import token_pair_obtain
from tests.factories import AccountFactory, visit_plan_ready
from tests.visits.helpers import DAYTIME

# 50 trials per race in CI (.ci/run sets RACE_TRIALS=50, as the acceptance asks); 5 by default locally.
TRIALS = int(os.environ.get("RACE_TRIALS", "5"))


@pytest.fixture(autouse=True)
def _daytime(time_machine, settings, tmp_path):
    # Visits and contacts are refused in the borrower's quiet hours; photos go to a temporary media root.
    time_machine.move_to(DAYTIME, tick=True)
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Outcome:
    status: int | None = None
    body: dict = field(default_factory=dict)
    error: BaseException | None = None


def api_client(user) -> APIClient:
    client = APIClient()
    client.raise_request_exception = False  # a server error is an answer to count, not a crash of the thread
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_obtain(user=user).access}")
    return client


def race(*calls: Callable[[], object]) -> list[Outcome]:
    """Run ``calls`` at the same instant, one thread each; each answer (or exception) in call order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def run(index: int, call: Callable) -> None:
        try:
            barrier.wait(timeout=10)
            response = call()
            outcomes[index].status = response.status_code
            try:
                outcomes[index].body = response.json()
            except ValueError:
                outcomes[index].body = {}
        except BaseException as exc:  # noqa: BLE001 -- reported by the test as a failure
            outcomes[index].error = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing request hung (lock wait)"
    return outcomes


def assert_no_server_errors(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        assert outcome.error is None, repr(outcome.error)
        assert outcome.status is not None and outcome.status < 500, (outcome.status, outcome.body)
        assert "deadlock" not in str(outcome.body).lower()


def walked_case(cast, stage: str):
    """A fresh case of collector A walked along the happy path to ``stage`` (screening … visit)."""
    case = case_open(account=AccountFactory(branch=cast.branch_a), actor=cast.supervisor_x, team=cast.team_x)
    case = case_assign(case=case, collector=cast.collector_a, actor=cast.supervisor_x)
    for target in (Stage.PREPARATION, Stage.VISIT, Stage.NEGOTIATION):
        if case.stage == stage:
            break
        if target == Stage.VISIT:
            visit_plan_ready(case, cast.collector_a)
        case_transition(case=case, target=target, actor=cast.collector_a)
    assert case.stage == stage
    return case
