"""Playbooks: the most specific match, shown on the case page in the reader's language; the collector marks
points used; a refused or hostile visit offers the playbook's next steps and tracks which were taken."""

import pytest
from django.urls import reverse

from collections_app.models import AuditLog, Stage
from quality import playbooks
from quality.models import Playbook, PlaybookUse

pytestmark = pytest.mark.django_db


def _playbook(cast, reason="", attitude="", title="General", steps=()):
    return Playbook.objects.create(
        title_en=title,
        title_zh=f"{title} 中文",
        overdue_reason=reason,
        attitude=attitude,
        points_en="Ask about the new job\nOffer instalments",
        points_zh="询问新工作情况\n提出分期方案",
        dos_en="Listen first",
        dos_zh="先倾听",
        donts_en="Never mention the neighbours",
        donts_zh="不要提及邻居",
        next_steps=list(steps),
        updated_by=cast.supervisor_x,
    )


def test_the_most_specific_playbook_wins(cast):
    general = _playbook(cast)
    job = _playbook(cast, reason="income_loss", title="Job loss")
    hostile = _playbook(cast, attitude="hostile", title="Hostile")
    both = _playbook(cast, reason="income_loss", attitude="hostile", title="Job loss, hostile")
    books = [general, job, hostile, both]
    assert playbooks.match(books, overdue_reason="income_loss", attitude="hostile") == both
    assert playbooks.match(books, overdue_reason="income_loss", attitude="cooperative") == job
    assert playbooks.match(books, overdue_reason="illness", attitude="hostile") == hostile
    assert playbooks.match(books, overdue_reason="illness", attitude="") == general
    assert playbooks.match([job], overdue_reason="illness", attitude="") is None


def test_case_page_shows_the_match_in_the_readers_language_and_the_collector_marks_points(client, visited_case, cast):
    _playbook(cast)
    job = _playbook(cast, reason="income_loss", title="Job loss")
    client.force_login(cast.collector_a)
    page = client.get(visited_case.get_absolute_url()).content.decode()
    assert 'id="playbook"' in page and "Job loss" in page and "Ask about the new job" in page
    assert "data-resistance" not in page  # the visit was cooperative and promised
    page = client.get(visited_case.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Job loss 中文" in page and "询问新工作情况" in page
    response = client.post(reverse("playbook-use", args=[visited_case.pk, job.pk]), {"points": ["1", "7"]})
    assert response.status_code == 302
    assert PlaybookUse.objects.get().points_used == [1]
    assert AuditLog.objects.filter(action="playbook.use").exists()
    client.force_login(cast.supervisor_x)
    assert client.post(reverse("playbook-use", args=[visited_case.pk, job.pk]), {"points": ["0"]}).status_code == 403


def test_a_refused_visit_offers_next_steps_and_tracks_the_ones_taken(client, visited_case, cast):
    from visits.models import Visit

    Visit.objects.filter(pk=visited_case.visit.pk).update(outcome="refused", attitude="hostile")
    book = _playbook(cast, attitude="hostile", title="Hostile", steps=["senior_revisit", "letter", "legal"])
    client.force_login(cast.collector_a)
    page = client.get(visited_case.get_absolute_url()).content.decode()
    assert "data-resistance" in page and "Revisit with a senior colleague" in page and "Send a letter" in page
    client.post(reverse("playbook-use", args=[visited_case.pk, book.pk]), {"steps": ["letter"]})
    assert PlaybookUse.objects.get().steps_taken == ["letter"]
    page = client.get(visited_case.get_absolute_url()).content.decode()
    assert 'value="letter" id="step-letter" checked' in page
    response = client.post(reverse("playbook-use", args=[visited_case.pk, book.pk]), {"steps": ["other_window"]})
    assert response.status_code == 302 and PlaybookUse.objects.get().steps_taken == ["letter"]


def test_supervisors_write_playbooks_collectors_do_not(client, cast):
    client.force_login(cast.collector_a)
    assert client.get(reverse("playbook-list")).status_code == 403
    client.force_login(cast.supervisor_x)
    response = client.post(
        reverse("playbook-create"),
        {
            "title_en": "Illness",
            "title_zh": "疾病",
            "overdue_reason": "illness",
            "attitude": "",
            "points_en": "Ask about treatment costs",
            "points_zh": "询问治疗费用",
            "next_steps": ["other_window"],
            "active": "on",
        },
    )
    assert response.status_code == 302
    book = Playbook.objects.get()
    assert (book.overdue_reason, book.next_steps, book.updated_by) == ("illness", ["other_window"], cast.supervisor_x)
    assert "疾病" in client.get(reverse("playbook-list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_playbook_list_queries_do_not_grow(client, cast, django_assert_max_num_queries):
    _playbook(cast)
    client.force_login(cast.supervisor_x)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("playbook-list"))
    for n in range(5):
        _playbook(cast, title=f"P{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("playbook-list"))


def test_visit_stage_case_has_a_general_playbook_before_any_visit(client, case_in_stage, cast):
    _playbook(cast)
    case = case_in_stage(Stage.VISIT)
    client.force_login(cast.collector_a)
    assert 'id="playbook"' in client.get(case.get_absolute_url()).content.decode()
