"""The evidence pack as a PDF (ReportLab). Chinese text is set in STSong-Light, one of the CID fonts every PDF
reader carries, so nothing is embedded and names in Chinese print as written."""

import io
from functools import cache
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from collections_app.models import CloseReason
from collections_app.selectors.cases import describe_event
from collections_app.templatetags.doorstep import money
from evidence.selectors import PackFacts

FONT = "STSong-Light"
PHOTO_SIDE = 40 * mm


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=20, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=12),
        "small": ParagraphStyle("small", fontName=font, fontSize=7, leading=9),
        "mono": ParagraphStyle("mono", fontName="Courier", fontSize=7, leading=9),
    }


_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10))
CELL_MAX = 600


def _p(text, style: str = "body", limit: int | None = None) -> Paragraph:
    """User text as a paragraph: control characters dropped, markup escaped, table cells cut to fit a page."""
    text = str(text if text not in (None, "") else "—").translate(_CONTROL)
    if limit and len(text) > limit:
        text = text[:limit] + "…"
    return Paragraph(escape(text), _styles()[style])


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _table(header: list[str], rows: list[list], widths: list[float]) -> Table:
    data = [[_p(cell, "small") for cell in header]]
    data += [
        [cell if isinstance(cell, Paragraph | Image) else _p(cell, "small", CELL_MAX) for cell in row] for row in rows
    ]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _section(story: list, title: str, header: list[str], rows: list[list], widths: list[float], empty: str) -> None:
    story.append(_p(title, "h2"))
    story.append(_table(header, rows, widths) if rows else _p(empty))


def _photo(photo) -> Image | Paragraph:
    try:
        with photo.file.open("rb") as handle:
            data = io.BytesIO(handle.read())
        image = Image(data)
        scale = min(PHOTO_SIDE / image.imageWidth, PHOTO_SIDE / image.imageHeight, 1)
        image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
        return image
    except (OSError, ValueError):
        return _p(_("photo file missing"), "small")


def _account(story: list, facts: PackFacts, summary: str) -> None:
    case, account = facts.case, facts.case.account
    rows = [
        [_("Borrower"), account.borrower.name],
        [_("National ID"), account.borrower.national_id_masked],
        [_("Account number"), account.account_no],
        [_("Branch"), str(account.branch)],
        [_("Product"), account.get_product_display()],
        [_("Principal"), money(account.principal, account.currency)],
        [_("Outstanding balance"), money(account.outstanding_balance, account.currency)],
        [_("Overdue amount"), money(account.overdue_amount, account.currency)],
        [_("Overdue since"), account.overdue_since or "—"],
        [_("Team"), str(case.team)],
        [_("Collector"), case.assigned_collector.get_username() if case.assigned_collector else "—"],
        [_("Opened"), _when(case.opened_at)],
        [
            _("Closed"),
            f"{_when(case.closed_at)} · {CloseReason(case.close_reason).label if case.close_reason else '—'}",
        ],
    ]
    story.append(_table([_("Account"), ""], rows, [45, 125]))
    story.append(_p(_("Summary for legal"), "h2"))
    story.append(_p(summary))


def _field_work(story: list, facts: PackFacts) -> None:
    _section(
        story,
        _("Contact attempts"),
        [_("Time"), _("Channel"), _("Who"), _("Result"), _("Number used"), _("By")],
        [
            [
                _when(a.attempted_at),
                a.get_channel_display(),
                a.get_party_display(),
                a.get_result_display(),
                a.phone_masked,
                a.actor.get_username() if a.actor_id else "",
            ]
            for a in facts.attempts
        ],
        [30, 22, 25, 30, 35, 28],
        _("No contact attempts."),
    )
    story.append(_p(_("Visits"), "h2"))
    if not facts.visits:
        story.append(_p(_("No visits.")))
    for visit in facts.visits:
        position = f"{visit.lat}, {visit.lng}" if visit.has_position else visit.get_geo_status_display()
        rows = [
            [_("Check-in"), _when(visit.checked_in_at)],
            [_("Check-out"), _when(visit.checked_out_at)],
            [_("Position"), position],
            [_("Collector"), visit.collector.get_username()],
            [_("Who was met"), visit.get_met_display()],
            [_("Outcome"), visit.get_outcome_display()],
            [_("Attitude"), visit.get_attitude_display()],
            [_("Overdue reason"), visit.get_overdue_reason_display()],
            [_("Notes"), visit.notes],
        ]
        story.append(_table([_("Visit %(id)s") % {"id": visit.pk}, ""], rows, [45, 125]))
        photos = list(visit.photos.all())
        if photos:
            story.append(
                _table(
                    [_("Photo"), _("SHA-256")],
                    [[_photo(photo), _p(photo.sha256, "mono")] for photo in photos],
                    [50, 120],
                )
            )
        story.append(Spacer(1, 3 * mm))


def _repayment(story: list, facts: PackFacts) -> None:
    _section(
        story,
        _("Promises to pay"),
        [_("Recorded"), _("Amount"), _("Due date"), _("Paid"), _("Status")],
        [
            [_when(p.created_at), money(p.amount), p.due_date, money(p.paid_amount), p.get_status_display()]
            for p in facts.promises
        ],
        [35, 35, 30, 35, 35],
        _("No promises to pay."),
    )
    _section(
        story,
        _("Repayment plans"),
        [_("Proposed"), _("Kind"), _("Amount"), _("Waiver"), _("Instalments"), _("Status")],
        [
            [
                _when(p.created_at),
                p.get_kind_display(),
                money(p.amount),
                money(p.waiver_amount),
                "; ".join(
                    f"{i.seq}: {i.due_date} {money(i.amount)} {i.get_status_display()}" for i in p.instalments.all()
                )
                or "—",
                p.get_status_display(),
            ]
            for p in facts.plans
        ],
        [25, 25, 25, 20, 50, 25],
        _("No repayment plans."),
    )
    _section(
        story,
        _("Payments"),
        [_("Payment date"), _("Amount"), _("Channel"), _("Reference"), _("Receipt")],
        [
            [p.paid_on, money(p.amount), p.get_channel_display(), p.reference, p.receipt_no or "—"]
            for p in facts.payments
        ],
        [30, 35, 30, 40, 35],
        _("No payments."),
    )


def _compliance(story: list, facts: PackFacts) -> None:
    _section(
        story,
        _("Compliance record"),
        [_("Time"), _("Rule"), _("Refused"), _("Actor")],
        [
            [
                _when(e.created_at),
                (e.payload or {}).get("rule", ""),
                (e.payload or {}).get("message", ""),
                e.actor.get_username() if e.actor_id else _("system"),
            ]
            for e in facts.refusals
        ],
        [30, 30, 80, 30],
        _("No action was refused by the rule pack on this case."),
    )
    story.append(_p(_("Complaints"), "h2"))
    story.append(_p(_("No complaints are recorded for this borrower.")))


def _timeline(story: list, facts: PackFacts) -> None:
    _section(
        story,
        _("Timeline"),
        [_("Link"), _("Time"), _("Event"), _("Details"), _("By"), _("Hash")],
        [
            [
                e.chain_seq or "—",
                _when(e.created_at),
                e.get_kind_display(),
                describe_event(e),
                e.actor.get_username() if e.actor_id else _("system"),
                _p(e.chain_hash or _("not sealed"), "mono"),
            ]
            for e in facts.events
        ],
        [10, 24, 24, 50, 20, 42],
        _("No events."),
    )


def _chain(story: list, report, audit_head: tuple[int, str]) -> None:
    story.append(_p(_("Hash chain"), "h2"))
    status = _("verified") if report.ok else _("BROKEN: %(reason)s") % {"reason": report.reason}
    rows = [
        [_("Case chain head"), _p(report.head_hash or "—", "mono")],
        [_("Links"), report.head_seq],
        [_("Verification when built"), status],
        [_("Audit chain head"), _p(f"{audit_head[0]} · {audit_head[1] or '—'}", "mono")],
    ]
    story.append(_table([_("Chain"), ""], rows, [45, 125]))
    story.append(
        _p(
            _(
                "Each event's hash is SHA-256 over its content and the previous event's hash. "
                "Run `python manage.py verify_evidence %(case)s` to recompute it."
            )
            % {"case": report.key.split(":", 1)[-1]},
            "small",
        )
    )


def render_pack(*, facts: PackFacts, summary: str, report, audit_head: tuple[int, str], built_by, built_at) -> bytes:
    """The PDF's bytes. Called inside ``translation.override`` with the pack's language."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_("Evidence pack: case %(case)s") % {"case": facts.case.pk},
        author=built_by.get_username(),
        invariant=True,  # the same inputs give the same bytes: a rebuilt pack can be compared by digest
    )
    story = [
        _p(_("Evidence pack: case %(case)s") % {"case": facts.case.pk}, "title"),
        _p(_("Built %(when)s by %(who)s") % {"when": _when(built_at), "who": built_by.get_username()}),
        Spacer(1, 4 * mm),
    ]
    _account(story, facts, summary)
    _timeline(story, facts)
    _field_work(story, facts)
    _repayment(story, facts)
    _compliance(story, facts)
    _chain(story, report, audit_head)
    doc.build(story)
    return buffer.getvalue()
