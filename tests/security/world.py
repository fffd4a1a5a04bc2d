"""One case of collector A with every kind of object hanging off it, built through the services.

Shared by the access matrix and the hostile-input tests: a preparation plan, a contact attempt,
a visit with a photo, a promise, a plan awaiting approval with its instalments, a payment, a
notification, an import job of supervisor X with its report, a sync conflict, and the audit rows
all of these wrote.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.test import TestCase
from django.utils import timezone

from collections_app.models import Case, ImportJob, Notification, Stage
from collections_app.services.cases import case_transition
from repayment.models import PromiseToPay, RepaymentPlan
from repayment.services.finances import declaration_record, evidence_attach
from repayment.services.payments import payment_record
from repayment.services.plans import plan_propose
from repayment.services.promises import promise_create
from tests.visits.helpers import DAYTIME, image_upload
from visits import services as visit_services
from visits.models import ContactAttempt, Party, SyncConflict, Visit, VisitPhoto, VisitPlan
from voice.services import complaint_log
from voice.services_link import link_create

# A weekday morning in the borrower's time zone: outside every pack's quiet hours.
WORLD_TIME = DAYTIME


@dataclass
class World:
    cast: object
    case: Case
    contact: ContactAttempt
    visit_plan: VisitPlan
    visit: Visit
    photo: VisitPhoto
    promise: PromiseToPay
    plan: RepaymentPlan
    payment: object
    notification: Notification
    import_job: ImportJob
    conflict: SyncConflict
    risk: object = None  # tests.risk.helpers.access_world

    pack: object = None
    review: object = None
    checkin: object = None
    playbook: object = None
    complaint: object = None
    link: object = None
    declaration: object = None
    figure: object = None
    finance_evidence: object = None

    @property
    def borrower(self):
        return self.case.account.borrower

    @property
    def phone(self):
        return self.borrower.phones.first()

    def user(self, role: str):
        return None if role == "anon" else getattr(self.cast, role)


def build_world(cast, case_a) -> World:
    """Collector A's case walked from screening to follow-up; the clock must stand at ``WORLD_TIME``."""
    actor = cast.collector_a
    case = case_a
    case_transition(case=case, target=Stage.PREPARATION, actor=actor)
    contact = visit_services.contact_attempt_log(
        case=case,
        actor=actor,
        channel=ContactAttempt.Channel.CALL,
        party=Party.BORROWER,
        phone_number="13812345678",
        result=ContactAttempt.Result.NO_ANSWER,
    )
    visit_plan = visit_services.visit_plan_save(
        case=case,
        actor=actor,
        contact_verified=True,
        overdue_reason="Lost job",
        history_reviewed=True,
        talking_points="Offer instalments.",
        planned_at=timezone.now() + dt.timedelta(hours=2),
        address=case.account.borrower.addresses.first(),
        consent_outside_hours=False,
    )
    case_transition(case=case, target=Stage.VISIT, actor=actor)
    # The photo takes its name when the visit commits; the test's outer transaction never does.
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit, _created = visit_services.visit_log(
            case=case,
            actor=actor,
            idempotency_key=uuid.uuid4(),
            checked_in_at=timezone.now() - dt.timedelta(minutes=30),
            checked_out_at=timezone.now() - dt.timedelta(minutes=5),
            identity_confirmed=True,
            met=Party.BORROWER,
            outcome=Visit.Outcome.PROMISED,
            monthly_income=Decimal("8000.00"),
            monthly_expenses=Decimal("5000.00"),
            photos=[image_upload()],
        )
    case.refresh_from_db()
    today = timezone.localdate()
    # A large waiver needs the supervisor's approval: the plan waits, pending, with its instalments.
    plan = plan_propose(
        case=case,
        actor=actor,
        kind=RepaymentPlan.Kind.SETTLEMENT,
        base_amount=Decimal("5000.00"),
        waiver_amount=Decimal("2000.00"),
        first_due_date=today + dt.timedelta(days=30),
    )
    promise = promise_create(case=case, actor=actor, amount=Decimal("500.00"), due_date=today + dt.timedelta(days=7))
    payment = payment_record(case=case, actor=actor, amount=Decimal("100.00"), paid_on=today, channel="cash")
    notification = Notification.objects.create(recipient=actor, case=case, kind="reminder", message="Call back")
    import_job = ImportJob.objects.create(
        created_by=cast.supervisor_x, filename="accounts.csv", status=ImportJob.Status.DONE
    )
    import_job.report.save("report.csv", ContentFile(b"row,column,value,reason\r\n"), save=True)
    conflict = SyncConflict.objects.create(
        idempotency_key=uuid.uuid4(),
        case=case,
        collector=actor,
        reason=SyncConflict.Reason.STAGE,
        message="The case moved on.",
        payload={"notes": "offline"},
    )
    pack = evidence_pack_row(case, cast.supervisor_x)
    from quality.reviews import review_pick

    review = review_pick(visit=visit, actor=cast.supervisor_x)
    from quality.models import Playbook, SafetyCheckIn

    playbook = Playbook.objects.create(
        title_en="General", title_zh="通用", points_en="Listen", points_zh="倾听", updated_by=cast.supervisor_x
    )

    checkin = SafetyCheckIn.objects.create(
        case=case,
        collector=actor,
        checked_in_at=WORLD_TIME,
        expected_minutes=30,
        alert_due_at=WORLD_TIME,
        status="checked_out",
    )

    complaint = complaint_log(case=case, actor=actor, category="amount", text="The fee is wrong.")
    declaration, _created = declaration_record(
        case=case, actor=actor, source="visit", visit=visit, figures=[{"kind": "salary", "amount": Decimal("8000.00")}]
    )
    figure = declaration.figures.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        finance_evidence = evidence_attach(figure=figure, actor=actor, kind="payslip", upload=image_upload())
    link = link_create(case=case, actor=actor)
    case.refresh_from_db()
    from tests.risk.helpers import access_world

    return World(
        risk=access_world(cast),
        cast=cast,
        case=case,
        contact=contact,
        visit_plan=visit_plan,
        visit=visit,
        photo=visit.photos.get(),
        promise=promise,
        plan=plan,
        payment=payment,
        notification=notification,
        import_job=import_job,
        conflict=conflict,
        pack=pack,
        review=review,
        checkin=checkin,
        playbook=playbook,
        complaint=complaint,
        link=link,
        declaration=declaration,
        figure=figure,
        finance_evidence=finance_evidence,
    )


def evidence_pack_row(case, supervisor):
    """A pack row with its two files (the world's case stays open: only the downloads' access is tested)."""
    from evidence.models import EvidencePack

    pack = EvidencePack(
        case=case,
        built_by=supervisor,
        summary="Refused three times; court next.",
        pdf_sha256="0" * 64,
        manifest_sha256="0" * 64,
        chain_seq=0,
        chain_head="",
        chain_ok=True,
    )
    pack.pdf.save("pack.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    pack.manifest.save("pack.manifest.json", ContentFile(b"{}"), save=False)
    pack.save()
    return pack
