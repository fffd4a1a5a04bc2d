"""Closing a case as legal builds its evidence pack whichever door the close came through (the case page, the
API, the evidence page), exactly once: the core schedules the evidence app's registered reaction after the
move commits (``collections_app.workflow.register_after_move``), and the summary it needs is checked first."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from collections_app.models import AuditLog, CaseEvent, CloseReason, Stage
from collections_app.services.cases import cases_transition_bulk
from collections_app.workflow import _AFTER_MOVE, after_move_reactions, register_after_move
from credentials.services import token_pair_obtain
from evidence.models import EvidencePack
from evidence.services import legal_close_react

pytestmark = pytest.mark.django_db

SUMMARY = "借款人多次拒绝还款。走访三次未果。建议提起诉讼。"


def _one_pack(case) -> EvidencePack:
    case.refresh_from_db()
    assert (case.stage, case.close_reason) == (Stage.CLOSED, CloseReason.LEGAL)
    pack = EvidencePack.objects.get(case=case)  # exactly one
    assert pack.summary == SUMMARY and pack.chain_ok
    assert CaseEvent.objects.filter(case=case, kind="evidence_pack").count() == 1
    assert AuditLog.objects.filter(action="evidence.pack").count() == 1
    return pack


def test_evidence_registers_its_pack_builder_for_the_legal_close_only():
    assert [r.react for r in after_move_reactions(Stage.CLOSED, CloseReason.LEGAL)].count(legal_close_react) == 1
    assert legal_close_react not in [r.react for r in after_move_reactions(Stage.CLOSED, CloseReason.CURED)]


def test_case_page_close_as_legal_builds_the_pack_once(client, visited_case, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.supervisor_x)
    url = reverse("case-transition", args=[visited_case.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"target": "closed", "close_reason": "legal", "note": SUMMARY})
    assert response.status_code == 302
    pack = _one_pack(visited_case)
    assert pack.language == EvidencePack.Language.ZH_HANS and pack.built_by == cast.supervisor_x
    # The case page then lists the pack in its evidence panel.
    assert f'data-pack="{pack.pk}"' in client.get(visited_case.get_absolute_url()).content.decode()


def test_case_page_refuses_a_legal_close_without_a_summary(
    client, visited_case, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.supervisor_x)
    url = reverse("case-transition", args=[visited_case.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"target": "closed", "close_reason": "legal", "note": "court"}, follow=True)
    assert "summary for legal" in response.content.decode()
    visited_case.refresh_from_db()
    assert visited_case.is_open and not EvidencePack.objects.exists()


def test_api_close_as_legal_builds_the_pack_once(visited_case, cast, django_capture_on_commit_callbacks):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_obtain(user=cast.supervisor_x).access}")
    url = reverse("api:case-transition", args=[visited_case.pk])
    refused = client.post(url, {"target": "closed", "close_reason": "legal", "note": "too short"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "legal_summary"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"target": "closed", "close_reason": "legal", "note": SUMMARY}, format="json")
    assert response.status_code == 200 and response.json()["stage"] == "closed"
    _one_pack(visited_case)


def test_other_close_reasons_build_no_pack(client, visited_case, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.supervisor_x)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("case-transition", args=[visited_case.pk]), {"target": "closed", "close_reason": "written_off"}
        )
    visited_case.refresh_from_db()
    assert visited_case.close_reason == CloseReason.WRITTEN_OFF and not EvidencePack.objects.exists()


def test_the_evidence_page_and_the_case_page_share_one_path(
    client, visited_case, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.supervisor_x)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("case-legal", args=[visited_case.pk]), {"summary": SUMMARY, "language": "en"})
    assert response.status_code == 302
    assert sum(getattr(c, "func", None) is legal_close_react for c in callbacks) == 1
    pack = _one_pack(visited_case)
    assert pack.language == "en"  # the page's choice travels with the move to the reaction


@pytest.fixture
def recorded_moves():
    """A reaction registered for moves into preparation, removed again afterwards."""
    seen = []

    def react(**kwargs):
        seen.append(kwargs)

    register_after_move(Stage.PREPARATION, react)
    yield seen
    key = (Stage.PREPARATION, "")
    _AFTER_MOVE[key] = [r for r in _AFTER_MOVE[key] if r.react is not react]


def test_bulk_moves_run_the_reactions_once_per_moved_case_after_commit(
    case_in_stage, cast, recorded_moves, django_capture_on_commit_callbacks
):
    case = case_in_stage(Stage.VISIT)
    with django_capture_on_commit_callbacks(execute=True):
        moved = cases_transition_bulk(
            cases=[case], target=Stage.PREPARATION, actor=cast.collector_a, notes={case.pk: "revisit"}
        )
        assert moved and recorded_moves == []  # not before the move commits
    assert recorded_moves == [
        {"case_id": case.pk, "actor_id": cast.collector_a.pk, "close_reason": "", "note": "revisit", "payload": {}}
    ]


def test_bulk_cannot_close_so_never_closes_as_legal(visited_case, cast):
    from collections_app.exceptions import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed):
        cases_transition_bulk(cases=[visited_case], target=Stage.CLOSED, actor=cast.supervisor_x)
