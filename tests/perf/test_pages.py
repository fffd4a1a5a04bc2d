"""The case page, "my cases" and screening: query counts pinned and independent of the data, and
the values computed once per row or page show what the template tags and filters showed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collections_app.models import (
    BorrowerPhone,
    CaseEvent,
    ContactPointChange,
    DelinquentAccount,
    Product,
    Stage,
    User,
)
from collections_app.selectors.cases import borrower_file, case_for_page, case_timeline
from collections_app.services.contacts import FoundContact, contact_point_add, contact_point_set_status
from evidence.models import EvidencePack
from evidence.panels import evidence_context
from quality.models import Playbook, SafetyCheckIn, UnsafeAddress, VisitReview
from quality.panels import review_context
from repayment.finances import declaration_figures
from repayment.models import Instalment, Payment, RepaymentPlan
from repayment.selectors import PANEL_ROWS, case_panel, finances_overview
from risk.models import Statement
from tests.factories import AccountFactory
from tests.offline.conftest import planned_case  # noqa: F401 — the fixture
from tests.repayment.finances_helpers import declare, figure, verify
from tests.visits.helpers import DAYTIME
from visits.models import ContactAttempt, Visit, VisitPhoto, VisitPlan
from voice.models import Complaint

pytestmark = pytest.mark.django_db

# session, user, case (+ visit plan; the borrower's accounts; for the collector their open check-in and the
# planned address's safety flag; for a supervisor the visit reviews; for a supervisor or manager the evidence
# packs, all riding on the case row), phones and addresses (each with its history), visits (with their
# photo counts), timeline, statements, contact attempts, complaints, promises, plans (with their next
# instalment), payments (+ totals), declarations (each with its figures); for the collector and the supervisor,
# the active playbooks (a matching one with its use). The bench's busiest case reads these (README, "Performance").
CASE_PAGE_QUERIES = {"collector": 15, "supervisor": 15, "manager": 14}


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    time_machine.move_to(DAYTIME, tick=True)


def _queries(client, url) -> list[str]:
    client.get(url)  # warm: the session's first write, per-process caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _grow(case, cast, start, stop):
    borrower = case.account.borrower
    for i in range(start, stop):
        BorrowerPhone.objects.create(borrower=borrower, number=f"1390000{i:04d}")
        ContactAttempt.objects.create(
            case=case, actor=cast.collector_a, phone_number=f"1380000{i:04d}", result="no_answer",
            attempted_at=DAYTIME - dt.timedelta(days=1, minutes=i),
        )  # fmt: skip
        Visit.objects.create(
            case=case, collector=cast.collector_a, checked_in_at=DAYTIME - dt.timedelta(days=i + 1), outcome="other"
        )
        Payment.objects.create(
            case=case, amount=Decimal("10.00"), paid_on=DAYTIME.date(), channel="cash", recorded_by=cast.collector_a
        )
        AccountFactory(borrower=borrower, branch=case.account.branch)


def test_case_page_reads_the_phones_once_and_stays_within_its_queries(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)  # a case in visit has its ready plan (the move's guard)
    VisitPlan.objects.filter(case=case).update(overdue_reason="lost job")
    client.force_login(cast.collector_a)
    url = reverse("case-detail", args=[case.pk])
    _grow(case, cast, 0, 2)
    small = _queries(client, url)
    _grow(case, cast, 2, 25)
    large = _queries(client, url)

    assert len(large) == len(small) <= CASE_PAGE_QUERIES["collector"]
    assert sum("collections_app_borrowerphone" in sql and "FROM" in sql for sql in large) == 1
    assert not any("visits_visitplan" in sql.split("FROM", 1)[1][:40] for sql in large)  # joined to the case
    assert not any(sql.lstrip().upper().startswith(("UPDATE", "INSERT")) for sql in large)  # no session save


def test_case_page_contact_form_offers_the_prefetched_phones(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    other = BorrowerPhone.objects.create(borrower=case.account.borrower, number="13900001111", label="work")
    primary = case.account.borrower.phones.get(is_primary=True)
    client.force_login(cast.collector_a)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()

    select = html[html.index('name="phone"') : html.index("</select>", html.index('name="phone"'))]
    assert "— another number —" in select
    assert f'value="{primary.pk}" selected' in select
    assert f'<option value="{other.pk}">{other.masked} ({other.get_label_display()})</option>' in select
    assert select.index(str(primary.pk)) < select.index(str(other.pk))  # primary first, as the model orders


def test_case_page_shows_the_visit_preparation_and_none_without_one(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    client.force_login(cast.collector_a)
    url = reverse("case-detail", args=[case.pk])
    VisitPlan.objects.filter(case=case).delete()  # a case moved to visit before plans were kept
    assert 'id="preparation"' not in client.get(url).content.decode()
    VisitPlan.objects.create(case=case, overdue_reason="lost job")
    page = client.get(url).content.decode()
    assert 'id="preparation"' in page and "lost job" in page


def test_repayment_panel_totals_cover_every_payment_not_only_the_rows_shown(cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    assert case_panel(case, cast.collector_a)["paid_total"] == Decimal("0")
    for i in range(PANEL_ROWS + 3):
        Payment.objects.create(
            case=case,
            amount=Decimal("100.50"),
            held_amount=Decimal("0.25") if i % 2 else Decimal("0"),
            paid_on=DAYTIME.date() - dt.timedelta(days=i),
            channel="cash",
            recorded_by=cast.collector_a,
        )
    with CaptureQueriesContext(connection) as ctx:
        panel = case_panel(case, cast.collector_a)
    assert len(panel["payments"]) == PANEL_ROWS
    assert panel["paid_total"] == Decimal("100.50") * (PANEL_ROWS + 3)
    assert panel["held_total"] == Decimal("0.25") * ((PANEL_ROWS + 3) // 2)
    assert sum("repayment_payment" in q["sql"] for q in ctx.captured_queries) == 1


def test_case_list_rows_show_the_stage_label_and_due_time_as_the_filters_did(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    case.next_action_due = timezone.now() + dt.timedelta(days=1)
    case.save(update_fields=["next_action_due"])
    client.force_login(cast.collector_a)
    for language in ("en", "zh-hans"):
        client.cookies["django_language"] = language
        html = client.get(reverse("case-list")).content.decode()
        with translation.override(language), timezone.override(timezone.get_current_timezone()):
            due = date_filter(timezone.localtime(case.next_action_due), "SHORT_DATETIME_FORMAT")
            label = str(case.get_stage_display())
        assert html.count(due) == 2  # card and table row
        assert html.count(f">{label}</span>") == 2
        assert html.count(f'href="{case.get_absolute_url()}"') == 2


def test_the_timeline_shows_each_events_time_and_actor_as_the_filters_did(cast, case_in_stage, time_machine):
    """The timeline formats its times with one formatter and reads the actor's name with the event: the same
    text as the ``date`` filter and ``get_full_name() or get_username()``, at midnight and noon too, in both
    languages, and "system" for an event without an actor."""
    case = case_in_stage(Stage.NEGOTIATION)
    User.objects.filter(pk=cast.collector_a.pk).update(first_name="Ann", last_name="Lee")
    User.objects.filter(pk=cast.supervisor_x.pk).update(first_name="", last_name="")
    zone = timezone.get_current_timezone()
    moments = [
        dt.datetime(2026, 3, 9, hour, minute, tzinfo=zone) for hour, minute in ((0, 0), (12, 0), (9, 5), (23, 59))
    ]
    for moment, actor in zip(moments, (cast.collector_a, None, cast.supervisor_x, cast.manager), strict=True):
        time_machine.move_to(moment, tick=False)
        CaseEvent.objects.create(case=case, actor=actor, kind=CaseEvent.Kind.NOTE, payload={"note": "x"})
    events = list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("-created_at", "-id"))
    assert len(events) >= len(moments)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            rows = case_timeline(case)
            expected = [
                (
                    date_filter(timezone.localtime(e.created_at), "SHORT_DATETIME_FORMAT"),
                    (e.actor.get_full_name() or e.actor.get_username()) if e.actor else str(_("system")),
                )
                for e in events
            ]
        assert [(row["when"], row["actor"]) for row in rows] == expected
    assert {row["actor"] for row in rows} >= {"Ann Lee", cast.supervisor_x.get_username()}


def test_screening_rows_show_the_translated_product_and_classification(client, cast):
    AccountFactory(branch=cast.branch_a, product="credit_card")
    client.force_login(cast.supervisor_x)
    with translation.override("zh-hans"):
        product = str(Product("credit_card").label)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("screening")).content.decode()
    assert f"<td>{product}</td>" in html


HOME_QUERIES_COLLECTOR = 12  # session, user, the home's counts, stages and next actions; today's route: the
# collector with team and branch, the day's plans (+ their phones and confirmed addresses), the route order


def test_collectors_home_reads_todays_route_in_a_constant_number_of_queries(client, cast, planned_case):  # noqa: F811
    for i in range(2):
        planned_case(31.30 + 0.01 * i, 120.60)
    client.force_login(cast.collector_a)
    few = _queries(client, reverse("home"))
    for i in range(6):
        planned_case(31.40 + 0.01 * i, 120.70)
    many = _queries(client, reverse("home"))
    assert client.get(reverse("home")).content.decode().count("data-stop=") == 8
    assert len(many) == len(few) <= HOME_QUERIES_COLLECTOR, many


def _fill(case, cast, start, stop):
    """Every panel's rows, ``stop - start`` more of each: visits with photos and reviews, plans with
    instalments, payments, complaints, statements, contact points with history, accounts, evidence packs."""
    borrower, account = case.account.borrower, case.account
    for i in range(start, stop):
        visit = Visit.objects.create(
            case=case, collector=cast.collector_a, checked_in_at=DAYTIME - dt.timedelta(days=i + 1), outcome="other",
            monthly_income=Decimal("5000.00") if i % 2 else None,
        )  # fmt: skip
        for n in range(2):
            VisitPhoto.objects.create(
                visit=visit, file=f"p/{i}-{n}.jpg", content_type="image/jpeg", size=10, sha256="0"
            )
        VisitReview.objects.create(visit=visit, collector=cast.collector_a, reason="picked", score=Decimal("7.5"))
        plan = RepaymentPlan.objects.create(
            case=case, kind="instalments", status="cancelled", base_amount=Decimal("300.00"), amount=Decimal("300.00"),
            instalment_count=3, first_due_date=DAYTIME.date(), grace_days=3, created_by=cast.collector_a,
        )  # fmt: skip
        for seq in range(1, 4):
            Instalment.objects.create(
                plan=plan, seq=seq, due_date=DAYTIME.date() + dt.timedelta(days=30 * seq), amount=Decimal("100.00"),
                paid_amount=Decimal("100.00" if seq == 1 else "0.00"), status="paid" if seq == 1 else "pending",
            )  # fmt: skip
        Payment.objects.create(
            case=case, amount=Decimal("10.50"), paid_on=DAYTIME.date(), channel="cash", recorded_by=cast.collector_a
        )
        Complaint.objects.create(
            case=case, category="conduct", text=f"complaint {i}", logged_by=cast.supervisor_x,
            ack_due=DAYTIME + dt.timedelta(days=1), resolve_due=DAYTIME + dt.timedelta(days=15),
        )  # fmt: skip
        Statement.objects.create(
            account=account, period_end=dt.date(2020, 1, 31) + dt.timedelta(days=31 * i), balance=Decimal("900.00"),
            amount_paid=Decimal("10.00"), dpd=30,
        )  # fmt: skip
        found = FoundContact(kind="phone", value=f"1370000{i:04d}", source="neighbour")
        phone = contact_point_add(case=case, actor=cast.collector_a, found=found, origin=ContactPointChange.Origin.CASE)
        contact_point_set_status(case=case, actor=cast.collector_a, point=phone, status="confirmed", note=f"n{i}")
        found = FoundContact(kind="address", value=f"{i} Field Road")
        contact_point_add(case=case, actor=cast.collector_a, found=found, origin=ContactPointChange.Origin.CASE)
        AccountFactory(borrower=borrower, branch=account.branch)
        EvidencePack.objects.create(
            case=case, built_by=cast.supervisor_x, summary="s", pdf=f"e/{i}.pdf", manifest=f"e/{i}.json",
            pdf_sha256="a" * 64, manifest_sha256="b" * 64, chain_seq=i, chain_head="c" * 64, chain_ok=bool(i % 2),
        )  # fmt: skip


def _counts(client, users, url) -> dict[str, int]:
    counts = {}
    for role, user in users.items():
        client.force_login(user)
        counts[role] = len(_queries(client, url))
    return counts


def test_case_page_reads_a_fixed_number_of_queries_for_every_role_at_every_size(client, cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    plan = VisitPlan.objects.get(case=case)
    plan.address = case.account.borrower.addresses.first()
    plan.save(update_fields=["address"])
    UnsafeAddress.objects.create(address=plan.address, flagged_by=cast.supervisor_x, reason="dogs")
    Playbook.objects.create(
        title_en="Refusals", title_zh="拒绝", overdue_reason="other", attitude="hostile", points_en="Listen",
        points_zh="倾听", updated_by=cast.supervisor_x,
    )  # fmt: skip
    SafetyCheckIn.objects.create(
        case=case, collector=cast.collector_a, checked_in_at=DAYTIME, expected_minutes=30, alert_due_at=DAYTIME
    )
    url = reverse("case-detail", args=[case.pk])
    users = {"collector": cast.collector_a, "supervisor": cast.supervisor_x, "manager": cast.manager}
    _fill(case, cast, 0, 2)
    assert _counts(client, users, url) == CASE_PAGE_QUERIES
    _fill(case, cast, 2, 12)
    assert _counts(client, users, url) == CASE_PAGE_QUERIES

    Playbook.objects.create(
        title_en="General", title_zh="通用", points_en="Listen", points_zh="倾听", updated_by=cast.supervisor_x
    )
    declare(case, cast.collector_a, ("salary", "6000.00"), ("rent", "2000.00"))
    declare(case, cast.collector_a, ("salary", "5000.00"), ("rent", "2000.00"))
    assert _counts(client, users, url) == CASE_PAGE_QUERIES
    _fill(case, cast, 12, 20)
    assert _counts(client, users, url) == CASE_PAGE_QUERIES


def test_rows_read_with_the_case_are_the_rows_each_panel_read_itself(cast, case_in_stage):
    """The lists riding on the case row (``json_rows``) decode to what their own queries read: exact money,
    aware times, the actor, newest or oldest first as each panel shows them, and only what the user may see."""
    case = case_in_stage(Stage.NEGOTIATION)
    _fill(case, cast, 0, 3)
    AccountFactory(borrower=case.account.borrower, branch=cast.branch_b)  # no case of collector A's: not theirs
    for user in (cast.collector_a, cast.supervisor_x, cast.manager):
        loaded = case_for_page(user, case.pk)
        file = borrower_file(user, loaded)
        accounts = DelinquentAccount.objects.visible_to(user).filter(borrower=case.account.borrower).order_by("id")
        fields = ("pk", "account_no", "product", "overdue_amount", "outstanding_balance", "currency")
        assert [tuple(getattr(a, f) for f in fields) for a in file["accounts"]] == list(accounts.values_list(*fields))
        for point in (*file["phones"], *file["addresses"]):
            assert [_change(c) for c in point.history] == [
                _change(c) for c in point.changes.select_related("actor").order_by("created_at", "id")
            ]
            assert all(timezone.is_aware(c.created_at) for c in point.history)
    assert len(file["accounts"]) == 5 and sum(len(p.history) for p in file["phones"]) == 6

    packs = evidence_context(user=cast.supervisor_x, case=case_for_page(cast.supervisor_x, case.pk), can_act=True)
    stored = EvidencePack.objects.filter(case=case).select_related("built_by").order_by("-built_at", "-id")
    assert [_pack(p) for p in packs["evidence_packs"]] == [_pack(p) for p in stored]
    rows = review_context(user=cast.supervisor_x, case=case_for_page(cast.supervisor_x, case.pk), can_act=True)
    visits = Visit.objects.filter(case=case).order_by("-checked_in_at", "-id")
    assert [
        (r["visit"].pk, r["review"].pk, r["review"].score, r["visit"].photo_count) for r in rows["review_rows"]
    ] == [(v.pk, v.review.pk, Decimal("7.5"), 2) for v in visits]


def test_figures_read_with_the_declarations_are_the_figures_read_on_their_own(cast, case_in_stage):
    """The finances panel reads each declaration's figures with it (``figure_rows``): the same figures, oldest
    first, with exact money and the verified amounts and flags, as the finances page's own read of them, so the
    panel's totals, capacities, unverified list and flags are the page's."""
    case = case_in_stage(Stage.NEGOTIATION)
    declare(case, cast.collector_a, ("salary", "6000.55", "Acme"), ("rent", "2000.00"), ("car_loan", "150.05"))
    latest = declare(
        case,
        cast.collector_a,
        ("salary", "5000.10", "Acme Trading"),
        ("benefit", "0.01"),
        ("rent", "1999.99"),
        ("credit_card", "300.00"),
    )
    verify(figure(latest, "salary"), cast.supervisor_x, "4800.35")
    verify(figure(latest, "rent"), cast.supervisor_x)
    panel = finances_overview(case_for_page(cast.collector_a, case.pk), with_evidence=False)
    page = finances_overview(case)
    with_row, own = panel["finances"], page["finances"]
    assert hasattr(with_row.declaration, "figure_rows") and not hasattr(own.declaration, "figure_rows")
    assert [_figure(f) for f in with_row.figures] == [_figure(f) for f in own.figures]
    assert [_figure(f) for f in declaration_figures(with_row.declaration.earlier)] == [
        _figure(f) for f in declaration_figures(own.declaration.earlier)
    ]
    assert [(f.kind, f.amount, f.is_verified, f.verified_amount) for f in with_row.figures] == [
        ("salary", Decimal("5000.10"), True, Decimal("4800.35")),
        ("benefit", Decimal("0.01"), False, None),
        ("rent", Decimal("1999.99"), True, Decimal("1999.99")),
        ("credit_card", Decimal("300.00"), False, None),
    ]
    assert (with_row.declared, with_row.effective, with_row.verified_income) == (
        own.declared,
        own.effective,
        own.verified_income,
    )
    assert with_row.effective.income == Decimal("4800.36")
    assert [_figure(f) for f in with_row.unverified] == [_figure(f) for f in own.unverified]
    keys = ("capacity", "verified_capacity", "flags")
    assert {key: panel[key] for key in keys} == {key: page[key] for key in keys}


def _figure(f) -> tuple:
    fields = ("pk", "declaration_id", "category", "kind", "amount", "employer", "status", "verified_amount")
    more = ("evidence_id", "verified_by_id", "verified_at", "verification_note", "effective_amount")
    values = tuple(getattr(f, name) for name in (*fields, *more))
    assert all(isinstance(v, Decimal) for v in (f.amount, f.effective_amount))
    return values


def _change(c) -> tuple:
    fields = ("pk", "created_at", "action", "origin", "source", "from_status", "to_status", "note")
    return (*(getattr(c, f) for f in fields), c.actor.get_username())


def _pack(p) -> tuple:
    return (p.pk, p.built_at, p.built_by.get_username(), p.chain_ok, p.pdf_sha256, p.language)
