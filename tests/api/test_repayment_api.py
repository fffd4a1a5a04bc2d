import datetime as dt

import pytest
from django.utils import timezone

from collections_app.models import Stage
from repayment.models import Payment, PromiseToPay, RepaymentPlan
from repayment.services import plan_propose

pytestmark = pytest.mark.django_db


@pytest.fixture
def negotiation_case(case_in_stage):
    """Collector A's case in negotiation: 5,000.00 overdue, 80,000.00 outstanding."""
    return case_in_stage(Stage.NEGOTIATION)


def in_days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def settlement(case, **overrides) -> dict:
    """A settlement whose 20 % waiver is above the approval threshold (10 %)."""
    return {
        "case": case.pk,
        "kind": "settlement",
        "base_amount": "5000.00",
        "waiver_amount": "1000.00",
        "first_due_date": in_days(10),
        **overrides,
    }


# --- promises ------------------------------------------------------------------------------------


def test_collector_records_a_promise_once_per_idempotency_key(api, cast, negotiation_case):
    client = api(cast.collector_a)
    data = {"case": negotiation_case.pk, "amount": "2000", "due_date": in_days(7), "idempotency_key": "k-1"}
    response = client.post("/api/v1/promises/", data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["status"], body["remaining"]) == ("2000.00", "pending", "2000.00")
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.FOLLOW_UP
    again = client.post("/api/v1/promises/", data, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert PromiseToPay.objects.count() == 1


def test_promise_bad_input_and_refusals_change_nothing(api, cast, negotiation_case):
    client = api(cast.collector_a)
    bad = client.post(
        "/api/v1/promises/", {"case": negotiation_case.pk, "amount": "-5", "due_date": "soon"}, format="json"
    )
    assert bad.status_code == 400 and {"amount", "due_date"} <= set(bad.json()["errors"])
    too_much = client.post(
        "/api/v1/promises/", {"case": negotiation_case.pk, "amount": "90000", "due_date": in_days(3)}, format="json"
    )
    assert too_much.status_code == 409 and "outstanding balance" in too_much.json()["detail"]
    assert not PromiseToPay.objects.exists()
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.NEGOTIATION


def test_promises_are_scoped_like_the_case(api, cast, negotiation_case):
    data = {"case": negotiation_case.pk, "amount": "100", "due_date": in_days(3)}
    promise = api(cast.collector_a).post("/api/v1/promises/", data, format="json").json()
    assert api(cast.collector_b).post("/api/v1/promises/", data, format="json").status_code == 404
    assert api(cast.collector_b).get(f"/api/v1/promises/{promise['id']}/").status_code == 404
    assert api(cast.supervisor_y).get("/api/v1/promises/").json()["results"] == []
    assert api(cast.manager).post("/api/v1/promises/", data, format="json").status_code == 403
    assert [p["id"] for p in api(cast.manager).get("/api/v1/promises/").json()["results"]] == [promise["id"]]
    pending = api(cast.supervisor_x).get("/api/v1/promises/", {"status": "pending"}).json()["results"]
    assert [p["id"] for p in pending] == [promise["id"]]
    assert api(cast.supervisor_x).get("/api/v1/promises/", {"status": "kept"}).json()["results"] == []
    assert PromiseToPay.objects.count() == 1


# --- plans ---------------------------------------------------------------------------------------


def test_plan_needing_approval_waits_for_the_team_supervisor(api, cast, negotiation_case):
    response = api(cast.collector_a).post("/api/v1/plans/", settlement(negotiation_case), format="json")
    assert response.status_code == 201, response.json()
    plan = response.json()
    assert (plan["status"], plan["approval_reasons"], plan["amount"]) == ("pending_approval", ["waiver"], "4000.00")
    assert len(plan["instalments"]) == 1 and plan["can_decide"] is False
    url = f"/api/v1/plans/{plan['id']}/approve/"
    assert api(cast.collector_a).post(url, {}, format="json").status_code == 403
    assert api(cast.manager).post(url, {}, format="json").status_code == 403
    assert api(cast.supervisor_y).post(url, {}, format="json").status_code == 404
    assert api(cast.supervisor_x).get(f"/api/v1/plans/{plan['id']}/").json()["can_decide"] is True
    approved = api(cast.supervisor_x).post(url, {"note": "ok"}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "active" and approved.json()["decided_by"]["username"] == "supervisor_x"


def test_maker_checker_the_proposing_supervisor_cannot_approve(api, cast, negotiation_case):
    client = api(cast.supervisor_x)
    plan = client.post("/api/v1/plans/", settlement(negotiation_case), format="json").json()
    refused = client.post(f"/api/v1/plans/{plan['id']}/approve/", {}, format="json")
    assert refused.status_code == 403 and "maker-checker" in refused.json()["detail"]
    assert RepaymentPlan.objects.get().status == "pending_approval"


def test_reject_needs_a_reason(api, cast, negotiation_case):
    plan = plan_propose(
        case=negotiation_case,
        actor=cast.collector_a,
        kind="settlement",
        base_amount=5000,
        waiver_amount=1000,
        first_due_date=timezone.localdate() + dt.timedelta(days=5),
    )
    client = api(cast.supervisor_x)
    url = f"/api/v1/plans/{plan.pk}/reject/"
    no_reason = client.post(url, {}, format="json")
    assert no_reason.status_code == 409 and no_reason.json()["detail"]
    assert client.post(url, {"note": "x" * 501}, format="json").status_code == 400
    rejected = client.post(url, {"note": "waiver too large"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "cancelled"


def test_plan_bad_input_is_400_and_small_plan_activates(api, cast, negotiation_case):
    client = api(cast.collector_a)
    bad = client.post(
        "/api/v1/plans/",
        {"case": negotiation_case.pk, "kind": "loan", "base_amount": "1.234", "instalment_count": 0},
        format="json",
    )
    assert bad.status_code == 400
    assert {"kind", "base_amount", "instalment_count", "first_due_date"} <= set(bad.json()["errors"])
    refused = client.post("/api/v1/plans/", settlement(negotiation_case, kind="instalments"), format="json")
    assert refused.status_code == 409 and "waiver" in refused.json()["detail"]
    assert not RepaymentPlan.objects.exists()
    small = {
        "case": negotiation_case.pk,
        "kind": "instalments",
        "base_amount": "3000",
        "instalment_count": 3,
        "first_due_date": in_days(30),
        "idempotency_key": "plan-1",
    }
    response = client.post("/api/v1/plans/", small, format="json")
    assert response.status_code == 201 and response.json()["status"] == "active"
    assert [i["amount"] for i in response.json()["instalments"]] == ["1000.00", "1000.00", "1000.00"]
    assert client.post("/api/v1/plans/", small, format="json").status_code == 200
    assert RepaymentPlan.objects.count() == 1
    assert len(client.get("/api/v1/plans/", {"status": "active"}).json()["results"]) == 1
    assert client.get("/api/v1/plans/", {"status": "nope"}).status_code == 400


# --- payments ------------------------------------------------------------------------------------


def test_payment_is_recorded_once_with_a_receipt_and_allocation(api, cast, negotiation_case):
    client = api(cast.collector_a)
    client.post(
        "/api/v1/promises/", {"case": negotiation_case.pk, "amount": "500", "due_date": in_days(3)}, format="json"
    )
    data = {
        "case": negotiation_case.pk,
        "amount": "800.50",
        "paid_on": timezone.localdate().isoformat(),
        "channel": "cash",
        "idempotency_key": "pay-1",
    }
    response = client.post("/api/v1/payments/", data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["receipt_no"].startswith("RC") and body["amount"] == "800.50"
    assert body["held_amount"] == "300.50"
    assert [a["amount"] for a in body["allocations"]] == ["500.00"]
    again = client.post("/api/v1/payments/", data, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Payment.objects.count() == 1


def test_payment_refusals_and_scoping(api, cast, negotiation_case):
    today = timezone.localdate()
    data = {"case": negotiation_case.pk, "amount": "100", "paid_on": today.isoformat(), "channel": "cash"}
    assert api(cast.manager).post("/api/v1/payments/", data, format="json").status_code == 403
    assert api(cast.collector_b).post("/api/v1/payments/", data, format="json").status_code == 404
    client = api(cast.collector_a)
    future = client.post("/api/v1/payments/", {**data, "paid_on": (today + dt.timedelta(days=1)).isoformat()})
    assert future.status_code == 409 and "future" in future.json()["detail"]
    bad = client.post("/api/v1/payments/", {**data, "channel": "gold", "amount": "0"}, format="json")
    assert bad.status_code == 400 and {"channel", "amount"} <= set(bad.json()["errors"])
    assert not Payment.objects.exists()
    payment = client.post("/api/v1/payments/", data, format="json").json()
    assert api(cast.supervisor_y).get(f"/api/v1/payments/{payment['id']}/").status_code == 404
    assert api(cast.collector_b).get("/api/v1/payments/").json()["results"] == []
    assert len(api(cast.supervisor_x).get("/api/v1/payments/", {"channel": "cash"}).json()["results"]) == 1


def test_repayment_lists_keep_a_constant_query_count(api, cast, negotiation_case, django_assert_max_num_queries):
    client = api(cast.collector_a)
    for n in range(3):
        client.post("/api/v1/promises/", {"case": negotiation_case.pk, "amount": "10", "due_date": in_days(n + 1)})
        client.post(
            "/api/v1/payments/",
            {
                "case": negotiation_case.pk,
                "amount": "5",
                "paid_on": timezone.localdate().isoformat(),
                "channel": "cash",
            },
        )
    client.post("/api/v1/plans/", settlement(negotiation_case), format="json")
    for url, count in (("/api/v1/promises/", 3), ("/api/v1/payments/", 3), ("/api/v1/plans/", 1)):
        with django_assert_max_num_queries(7):
            assert len(client.get(url).json()["results"]) == count


def test_approving_a_plan_above_the_capacity_needs_a_note(api, cast, negotiation_case):
    """The page's rule holds through the API (tests/repayment/test_approval_facts.py)."""
    from tests.repayment.test_approval_facts import _finances, _pending_plan

    today = timezone.localdate()
    _finances(negotiation_case, cast.collector_a, "3000.00", "2000.00")
    plan = _pending_plan(negotiation_case, cast.collector_a, today)
    url = f"/api/v1/plans/{plan.pk}/approve/"
    refused = api(cast.supervisor_x).post(url, {"note": ""}, format="json")
    assert refused.status_code in (400, 409) and "monthly capacity" in refused.json()["detail"]
    assert RepaymentPlan.objects.get(pk=plan.pk).status == RepaymentPlan.Status.PENDING_APPROVAL
    assert api(cast.supervisor_x).post(url, {"note": "Family helps"}, format="json").status_code == 200
