"""Data for the browser tours: the demo data plus one object behind every page with an id.

``build_tour()`` loads ``seed_demo`` (users collector1 … admin, password ``doorstep-demo``) and adds,
through the services, everything a page with an id needs: a borrower whose name is an HTML injection
attempt, with an account waiting in screening, a case in negotiation (a visit with a photo, a plan
awaiting approval), a case in the visit stage planned for today, and a case in follow-up with an
active plan, a payment and a promise; a sync conflict, an import with a report and a notification.
"""

import datetime as dt
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from collections_app.importer.services import import_job_create, import_job_run
from collections_app.models import (
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Branch,
    Case,
    DelinquentAccount,
    ImportJob,
    Notification,
    Stage,
    User,
)
from collections_app.services.cases import case_assign, case_open, case_transition
from collections_app.services.screening import accounts_refresh_screening_keys
from repayment.models import Payment, PromiseToPay, RepaymentPlan
from repayment.services import payment_record, plan_propose, promise_create
from tests.factories import visit_plan_ready
from visits.models import SyncConflict, Visit, VisitPhoto, VisitPlan
from visits.services import visit_log

XSS_NAME = "<img src=x onerror=alert(1)>"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_PASSWORD = "doorstep-demo"


def png_bytes(size: tuple[int, int] = (64, 48), colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Tour:
    collector: User
    supervisor: User
    manager: User
    admin: User
    other_collector: User
    negotiation_case: Case
    visit_case: Case
    follow_up_case: Case
    foreign_case: Case
    visit: Visit
    photo: VisitPhoto
    pending_plan: RepaymentPlan
    active_plan: RepaymentPlan
    payment: Payment
    promise: PromiseToPay
    conflict: SyncConflict
    import_job: ImportJob
    notification: Notification
    risk: object = None  # tests.risk.tour_data.RiskTour

    review: object = None
    playbook: object = None
    pack: object = None
    complaint: object = None
    link: object = None
    finance_figure: object = None
    finance_evidence: object = None


def _account(borrower: Borrower, branch: Branch, no: str, overdue: str, dpd: int) -> DelinquentAccount:
    return DelinquentAccount.objects.create(
        account_no=no,
        borrower=borrower,
        branch=branch,
        product="personal_business",
        principal=Decimal("200000.00"),
        outstanding_balance=Decimal("150000.00"),
        overdue_amount=Decimal(overdue),
        overdue_since=timezone.localdate() - dt.timedelta(days=dpd),
    )


def _walk(case: Case, actor: User, *targets: str) -> Case:
    for target in targets:
        if target == Stage.VISIT and not VisitPlan.objects.filter(case=case).exists():
            visit_plan_ready(case, actor)
        case = case_transition(case=case, target=target, actor=actor)
    return case


def _yesterday_at(hour: int) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, 0), SHANGHAI)


def build_tour(accounts: int = 12, seed: int = 2026) -> Tour:
    call_command("seed_demo", accounts=accounts, seed=seed, force=True, stdout=io.StringIO())
    users = {u.username: u for u in User.objects.all()}
    collector, supervisor = users["collector1"], users["supervisor1"]
    team = supervisor.team
    branch = team.branch

    borrower = Borrower(name=XSS_NAME, employer="<b>bold</b> & Co")
    borrower.set_national_id("320102199001011234")
    borrower.save()
    BorrowerPhone.objects.create(borrower=borrower, number="13912345678", is_primary=True)
    address = BorrowerAddress.objects.create(
        borrower=borrower,
        text="苏州市姑苏区人民路 100 号 <script>alert(2)</script>",
        lat=Decimal("31.305000"),
        lng=Decimal("120.590000"),
        is_primary=True,
    )
    _account(borrower, branch, "E2E0000001", "8000.00", 75)  # stays in screening
    open_accounts = [_account(borrower, branch, f"E2E000000{n}", "12000.00", 40) for n in (2, 3, 4)]
    accounts_refresh_screening_keys()
    negotiation_case, visit_case, follow_up_case = (
        case_assign(case=case_open(account=a, actor=supervisor, team=team), collector=collector, actor=supervisor)
        for a in open_accounts
    )

    # Negotiation: a visit with a photo, then a settlement whose waiver needs the supervisor.
    _walk(negotiation_case, collector, Stage.PREPARATION, Stage.VISIT)
    photo_upload = SimpleUploadedFile("door.png", png_bytes(), content_type="image/png")
    visit, _created = visit_log(
        case=negotiation_case,
        actor=collector,
        idempotency_key=uuid.uuid4(),
        checked_in_at=_yesterday_at(10),
        checked_out_at=_yesterday_at(11),
        identity_confirmed=True,
        met="borrower",
        outcome=Visit.Outcome.AGREED_PLAN,
        monthly_income=Decimal("9000.00"),
        monthly_expenses=Decimal("5000.00"),
        other_debt_payments=Decimal("1000.00"),
        overdue_reason="business",
        overdue_reason_text=XSS_NAME,
        attitude="cooperative",
        notes=f"Met {XSS_NAME} at the shop.",
        photos=[photo_upload],
    )
    negotiation_case.refresh_from_db()
    pending_plan = plan_propose(
        case=negotiation_case,
        actor=collector,
        kind=RepaymentPlan.Kind.SETTLEMENT,
        base_amount=Decimal("12000.00"),
        waiver_amount=Decimal("3000.00"),
        first_due_date=timezone.localdate() + dt.timedelta(days=14),
        note=XSS_NAME,
    )

    # Visit stage, planned for today at 15:00 (today's route).
    visit_plan_ready(
        visit_case,
        collector,
        planned_at=dt.datetime.combine(timezone.localdate(), dt.time(15, 0), SHANGHAI),
        address=address,
        talking_points=XSS_NAME,
    )
    _walk(visit_case, collector, Stage.PREPARATION, Stage.VISIT)

    # Follow-up: an active 3-instalment plan, a first payment and a promise for the rest of the month.
    follow_up_case = _walk(follow_up_case, collector, Stage.PREPARATION, Stage.VISIT, Stage.NEGOTIATION)
    active_plan = plan_propose(
        case=follow_up_case,
        actor=collector,
        kind=RepaymentPlan.Kind.INSTALMENTS,
        base_amount=Decimal("9000.00"),
        instalment_count=3,
        first_due_date=timezone.localdate() + dt.timedelta(days=10),
    )
    follow_up_case.refresh_from_db()
    payment = payment_record(
        case=follow_up_case,
        actor=collector,
        amount=Decimal("1500.00"),
        paid_on=timezone.localdate(),
        channel="cash",
        reference="E2E-<i>1</i>",
    )
    promise = promise_create(
        case=follow_up_case,
        actor=collector,
        amount=Decimal("500.00"),
        due_date=timezone.localdate() + dt.timedelta(days=5),
        note=XSS_NAME,
    )

    conflict = SyncConflict.objects.create(
        idempotency_key=uuid.uuid4(),
        case=negotiation_case,
        collector=collector,
        reason=SyncConflict.Reason.STAGE,
        message="The case is no longer in the visit stage.",
        payload={"notes": XSS_NAME, "outcome": "promised", "photos": []},
    )

    csv = (
        "account_no,borrower_name,branch_code,outstanding_balance,overdue_amount,days_past_due\n"
        f"E2E0000099,{XSS_NAME},{branch.code},5000.00,800.00,20\n"
        "E2E0000098,,BR01,not-a-number,1,5\n"
    ).encode()
    job = import_job_create(actor=supervisor, upload=SimpleUploadedFile("accounts.csv", csv, "text/csv"))
    job = import_job_run(job_id=job.pk) or ImportJob.objects.get(pk=job.pk)

    notification = Notification.objects.create(
        recipient=supervisor, case=negotiation_case, kind="approval", message=f"Plan for {XSS_NAME} awaits you."
    )
    foreign_case = Case.objects.exclude(team=team).exclude(stage=Stage.CLOSED).order_by("id").first()
    from tests.risk.tour_data import build_risk_tour

    risk = build_risk_tour(supervisor=supervisor, collector=collector, borrower=borrower, branch=branch)
    return Tour(
        risk=risk,
        collector=collector,
        supervisor=supervisor,
        manager=users["manager"],
        admin=users["admin"],
        other_collector=users["collector4"],
        negotiation_case=negotiation_case,
        visit_case=visit_case,
        follow_up_case=follow_up_case,
        foreign_case=foreign_case,
        visit=visit,
        photo=visit.photos.get(),
        pending_plan=pending_plan,
        active_plan=active_plan,
        payment=payment,
        promise=promise,
        conflict=conflict,
        import_job=job,
        notification=notification,
        **_quality_and_evidence(supervisor, negotiation_case, visit),
        **_voice(collector, negotiation_case),
        **_finances(collector, negotiation_case),
    )


def _finances(collector, case) -> dict:
    """Declared figures (a salary from another employer than the one on file, rent, a car seen), the salary's
    payslip photo and its verification: the finances page shows a verified figure, an unverified one and flags."""
    from repayment.services.finances import declaration_record, evidence_attach, figure_verify

    declaration, _created = declaration_record(
        case=case,
        actor=collector,
        source="visit",
        assets_seen=["vehicle"],
        figures=[
            {"kind": "salary", "amount": Decimal("4000.00"), "employer": XSS_NAME},
            {"kind": "rent", "amount": Decimal("1200.00")},
        ],
    )
    salary = declaration.figures.get(kind="salary")
    upload = SimpleUploadedFile("payslip.png", png_bytes(), content_type="image/png")
    evidence = evidence_attach(figure=salary, actor=collector, kind="payslip", upload=upload)
    figure_verify(figure=salary, actor=collector, evidence=evidence, verified_amount=Decimal("3800.00"))
    return {"finance_figure": salary, "finance_evidence": evidence}


def _voice(collector: User, case: Case) -> dict:
    """A complaint taken by phone (its text a would-be script) and the borrower's link."""
    from voice.services import complaint_log
    from voice.services_link import link_create

    complaint = complaint_log(case=case, actor=collector, category="amount", text=XSS_NAME)
    return {"complaint": complaint, "link": link_create(case=case, actor=collector)}


def _quality_and_evidence(supervisor: User, case: Case, visit: Visit) -> dict:
    """A visit picked for review, a general playbook, and an evidence pack row (for the downloads)."""
    from quality.models import Playbook
    from quality.reviews import review_pick
    from tests.security.world import evidence_pack_row

    playbook = Playbook.objects.create(
        title_en="First visit",
        title_zh="首次走访",
        points_en="State who you are and why you came\nAsk what changed",
        points_zh="表明身份和来意\n询问发生了什么变化",
        updated_by=supervisor,
    )
    pack = evidence_pack_row(case, supervisor)
    return {"review": review_pick(visit=visit, actor=supervisor), "playbook": playbook, "pack": pack}
