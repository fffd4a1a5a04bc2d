"""The borrower's self-service page (no login: the signed link is the key) and the staff's link page."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from collections_app.exceptions import DoorstepError
from collections_app.selectors.cases import case_for_action
from voice import links, selectors
from voice import services_link as services
from voice.forms import BorrowerComplaintForm, BorrowerRatingForm, BorrowerRequestForm
from voice.models import BorrowerLink

ACTIONS = {"request": BorrowerRequestForm, "rating": BorrowerRatingForm, "complaint": BorrowerComplaintForm}


def _act(link, action: str, form) -> None:
    data = form.cleaned_data if form is not None else {}
    if action == "confirm":
        plan = selectors.borrower_page(link)["plan"]
        services.borrower_plan_confirm(link=link, plan_id=plan.pk if plan else None)
    elif action == "request":
        services.borrower_contact_request(
            link=link,
            kind=data["kind"],
            window=data["window"],
            day=data["day"],
            time_from=data["time_from"],
            time_to=data["time_to"],
        )
    elif action == "rating":
        services.borrower_visit_rate(link=link, rating=data["rating"], comment=data["comment"])
    else:
        services.borrower_complaint_file(link=link, category=data["category"], text=data["text"])


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def borrower_page(request, token: str):
    try:
        link = services.link_open(token=token, ip=request.META.get("REMOTE_ADDR") or "", method=request.method)
    except services.LinkRateLimited as exc:
        return render(request, "voice/borrower_message.html", {"message": exc.message}, status=429)
    except services.LinkUnavailable as exc:
        return render(request, "voice/borrower_message.html", {"message": exc.message}, status=404)
    action = request.POST.get("action", "")
    forms = {name: form_class(prefix=name) for name, form_class in ACTIONS.items()}
    if request.method == "POST":
        if action not in (*ACTIONS, "confirm"):
            raise Http404
        form = None
        if action in ACTIONS:
            form = forms[action] = ACTIONS[action](request.POST, prefix=action)
        if form is None or form.is_valid():
            try:
                _act(link, action, form)
            except DoorstepError as exc:
                if form is None:
                    raise Http404 from exc
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Thank you. Your collector has been told."))
                return redirect(request.path)
    context = {
        **selectors.borrower_page(link),
        **{f"{name}_form": form for name, form in forms.items()},
        "how_to_pay": _how_to_pay(),
        "link": link,
    }
    return render(request, "voice/borrower_page.html", context, status=400 if request.method == "POST" else 200)


def _how_to_pay() -> str:
    return _(settings.BORROWER_HOW_TO_PAY)


def _qr_svg(url: str) -> str:
    # Rendered on the server (no CDN, no script): an inline SVG the collector shows on the phone.
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


@require_http_methods(["GET", "POST"])
def case_link(request, pk: int):
    case = case_for_action(request.user, pk)
    if request.method == "POST":
        try:
            services.link_create(case=case, actor=request.user)
        except DoorstepError as exc:
            messages.error(request, exc.message)
        return redirect("case-link", pk=case.pk)
    now = timezone.now()
    rows = selectors.case_links(case)
    live = next((link for link in rows if link.is_active(now)), None)
    url = qr = ""
    if live is not None:
        url = request.build_absolute_uri(reverse("borrower-page", kwargs={"token": links.sign(live)}))
        qr = _qr_svg(url)
    context = {"case": case, "links": rows, "live": live, "url": url, "qr": qr, "now": now}
    return render(request, "voice/case_link.html", context)


@require_POST
def link_revoke(request, pk: int):
    link = get_object_or_404(BorrowerLink.objects.select_related("case"), pk=pk)
    case = case_for_action(request.user, link.case_id)
    try:
        services.link_revoke(link=link, actor=request.user)
    except DoorstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The link is revoked."))
    return redirect("case-link", pk=case.pk)
