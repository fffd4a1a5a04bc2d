"""Input shape and validation for contact attempts, visit preparation and visit logs."""

import datetime as dt
import uuid
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.models import BorrowerAddress, Case, ContactParty, ContactStatus
from collections_app.services import uploads
from collections_app.services.contacts import FIELD_SOURCES, KIND_CHOICES, found_contact_from
from visits import photos as photo_rules
from visits.models import ContactAttempt, Party, Visit, VisitPlan
from visits.rules import CLOCK_SKEW, DEBT_FIELDS, visit_problems

LOCAL_INPUT = "%Y-%m-%dT%H:%M"
FORMAT_TYPES = list(photo_rules.FORMATS.values())


def _datetime_input(**attrs) -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local", **attrs}, format=LOCAL_INPUT)


def _money_field(label) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _not_in_future(value: dt.datetime | None, message) -> None:
    if value is not None and value > timezone.now() + CLOCK_SKEW:
        raise ValidationError(message, code="future")


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


class FoundContactFields(forms.Form):
    """A phone or an address found during the visit or the attempt (skip tracing), optional."""

    found_kind = forms.ChoiceField(label=_("Found a new contact"), choices=[("", "—"), *KIND_CHOICES], required=False)
    found_value = forms.CharField(
        label=_("Number or address found"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    found_party = forms.ChoiceField(label=_("Whose"), choices=ContactParty.choices, required=False)
    found_holder = forms.CharField(
        label=_("Who they are (third party)"), max_length=100, required=False, help_text=_("e.g. sister, landlord")
    )
    found_source = forms.ChoiceField(label=_("Given by"), choices=FIELD_SOURCES, required=False)

    FOUND_FIELDS = ("found_kind", "found_value", "found_party", "found_holder", "found_source")

    def clean_found_contact(self, data: dict) -> None:
        try:
            data["found_contact"] = found_contact_from(data)
        except ValidationError as exc:
            data["found_contact"] = None
            for field, messages in exc.message_dict.items():
                if field not in self.errors:
                    self.add_error(field, messages)

    def found_fieldset(self) -> Fieldset:
        return Fieldset(_("New contact found"), *self.FOUND_FIELDS, css_class="js-found-contact")


class ContactAttemptForm(FoundContactFields):
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactAttempt.Channel.choices)
    party = forms.ChoiceField(label=_("Who"), choices=Party.choices)
    phone = forms.ModelChoiceField(
        label=_("Number"), queryset=None, required=False, empty_label=_("— another number —")
    )
    other_number = forms.CharField(
        label=_("Other number"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    result = forms.ChoiceField(label=_("Result"), choices=ContactAttempt.Result.choices)
    attempted_at = forms.DateTimeField(
        label=_("Time"), required=False, widget=_datetime_input(), help_text=_("Leave empty for now.")
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    idempotency_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
        # A wrong number is never offered to dial (the attempt service refuses it as well).
        phones = [p for p in case.account.borrower.phones.all() if p.status != ContactStatus.WRONG]
        self.fields["phone"].queryset = case.account.borrower.phones.exclude(status=ContactStatus.WRONG)
        self.fields["phone"].label_from_instance = lambda p: f"{p.masked} ({p.get_label_display()})"
        self.fields["phone"].initial = next((p.pk for p in phones if p.is_primary), None)
        self.helper = _helper()

    def clean_attempted_at(self):
        value = self.cleaned_data.get("attempted_at")
        _not_in_future(value, _("The attempt's time is in the future."))
        return value

    def clean(self):
        data = super().clean()
        phone, other = data.get("phone"), (data.get("other_number") or "").strip()
        data["phone_number"] = other or (phone.number if phone else "")
        if (
            data.get("channel") in (ContactAttempt.Channel.CALL, ContactAttempt.Channel.SMS)
            and not data["phone_number"]
        ):
            self.add_error("phone", _("Choose the number used, or type another one."))
        self.clean_found_contact(data)
        return data


class VisitPlanForm(forms.ModelForm):
    class Meta:
        model = VisitPlan
        fields = [
            "contact_verified",
            "overdue_reason",
            "history_reviewed",
            "talking_points",
            "planned_at",
            "address",
            "consent_outside_hours",
        ]
        widgets = {
            "overdue_reason": forms.Textarea(attrs={"rows": 2}),
            "talking_points": forms.Textarea(attrs={"rows": 3}),
            "planned_at": _datetime_input(),
        }

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        # A wrong or moved address is no longer visited.
        self.fields["address"].queryset = case.account.borrower.addresses.exclude(status__in=BorrowerAddress.DEAD)
        self.fields["address"].empty_label = None
        self.fields["address"].required = True
        self.fields["planned_at"].required = True
        self.fields["consent_outside_hours"].help_text = _(
            "Tick only when the borrower asked for or agreed to a visit in the quiet hours; it is recorded."
        )
        self.helper = _helper()
        self.helper.layout = Layout(
            Fieldset(
                _("Checklist"),
                "contact_verified",
                "history_reviewed",
                "overdue_reason",
                "talking_points",
            ),
            Fieldset(_("Visit"), "planned_at", "address", "consent_outside_hours"),
        )

    def clean_planned_at(self):
        value = self.cleaned_data.get("planned_at")
        if value is not None and "planned_at" in self.changed_data and value < timezone.now() - CLOCK_SKEW:
            raise ValidationError(_("The planned visit time is in the past."), code="past")
        return value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(t for t, _e in FORMAT_TYPES)}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


class VisitForm(FoundContactFields):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    geo_status = forms.ChoiceField(
        choices=Visit.GeoStatus.choices, initial=Visit.GeoStatus.UNAVAILABLE, widget=forms.HiddenInput
    )
    lat = forms.DecimalField(
        required=False, min_value=-90, max_value=90, max_digits=9, decimal_places=6, widget=forms.HiddenInput
    )
    lng = forms.DecimalField(
        required=False, min_value=-180, max_value=180, max_digits=9, decimal_places=6, widget=forms.HiddenInput
    )
    accuracy_m = forms.DecimalField(
        required=False, min_value=0, max_digits=9, decimal_places=1, widget=forms.HiddenInput
    )
    checked_in_at = forms.DateTimeField(label=_("Check-in"), widget=_datetime_input())
    identity_confirmed = forms.BooleanField(
        label=_("I stated my name, my employer and the purpose of the visit"),
        error_messages={"required": _("Confirm that you stated your identity and the purpose of the visit.")},
    )
    met = forms.ChoiceField(label=_("Who was met"), choices=Party.choices, widget=forms.RadioSelect)
    monthly_income = _money_field(_("Monthly income"))
    monthly_expenses = _money_field(_("Monthly expenses"))
    other_debt_payments = _money_field(_("Other monthly debt payments"))
    overdue_reason = forms.ChoiceField(
        label=_("Overdue reason"), choices=[("", "—"), *Visit.OverdueReason.choices], required=False
    )
    overdue_reason_text = forms.CharField(
        label=_("Overdue reason, in words"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    attitude = forms.ChoiceField(label=_("Attitude"), choices=[("", "—"), *Visit.Attitude.choices], required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *Visit.Outcome.choices])
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultiplePhotoField(label=_("Photo evidence"), required=False)
    kept_photos = forms.MultipleChoiceField(
        label=_("Photos already attached"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Kept from your last try and saved with the visit; no need to attach them again. "
            "Untick one to leave it out."
        ),
    )
    checked_out_at = forms.DateTimeField(
        label=_("Check-out"), required=False, widget=_datetime_input(), help_text=_("Leave empty for now.")
    )

    def __init__(self, *args, case: Case, owner=None, **kwargs):
        """``owner``: who submits; photos held from their refused submit come back as ``kept_photos``."""
        super().__init__(*args, **kwargs)
        self.case = case
        self.owner = owner
        self.kept_files: list = []
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
            self.initial.setdefault("checked_in_at", timezone.localtime().replace(second=0, microsecond=0))
        max_mb = photo_rules.max_bytes() / (1024 * 1024)
        self.fields["photos"].help_text = _("JPEG, PNG or WebP, at most %(mb)s MB each.") % {"mb": f"{max_mb:g}"}
        tokens = self.data.getlist(self.add_prefix("kept_photos")) if self.is_bound and owner is not None else []
        self._set_kept(tokens)
        self.helper = _helper()
        self._layout()

    @property
    def _hold_scope(self) -> str:
        return f"visit:{self.case.pk}"

    def _set_kept(self, tokens: list[str]) -> None:
        held = [uploads.held_upload(t, owner_id=self.owner.pk, scope=self._hold_scope) for t in tokens]
        self.fields["kept_photos"].choices = [(h.token, h.label) for h in held if h is not None]

    def keep_photos(self) -> None:
        """After a refused submit: hold the photos just chosen, so the returned form keeps them ticked."""
        if self.owner is None:
            return
        cleaned = getattr(self, "cleaned_data", {})
        tokens = list(cleaned.get("kept_photos") or [])
        new = cleaned.get("photos") or []
        try:
            tokens += [uploads.upload_hold(upload=f, owner_id=self.owner.pk, scope=self._hold_scope).token for f in new]
        except uploads.StorageUnavailable:
            self.add_error(None, _("The photos could not be kept on the server: attach them again."))
        self._set_kept(tokens)
        self.data = self.data.copy()
        self.data.setlist(self.add_prefix("kept_photos"), tokens)
        self._layout()

    def release_kept(self) -> None:
        """Once the visit is recorded, the held files it used are no longer needed."""
        if self.owner is not None and self.kept_files:
            kept = self.cleaned_data.get("kept_photos") or []
            uploads.held_uploads_release(kept, owner_id=self.owner.pk, scope=self._hold_scope)

    def _layout(self) -> None:
        outcome = ["attitude", "outcome", "notes", "photos", "checked_out_at"]
        if self.fields["kept_photos"].choices:
            outcome.insert(3, "kept_photos")
        self.helper.layout = Layout(
            "idempotency_key",
            "geo_status",
            "lat",
            "lng",
            "accuracy_m",
            Fieldset(
                _("Check-in"),
                HTML(
                    # Disabled until visit.js takes it: a tap before the script runs would do nothing.
                    '<button type="button" class="btn btn-outline-primary w-100 mb-2 js-checkin" disabled>'
                    '<i class="bi bi-geo-alt" aria-hidden="true"></i> '
                    + str(_("Check in here (records your position)"))
                    + '</button><p class="small text-body-secondary js-geo-message" aria-live="polite"></p>'
                ),
                "checked_in_at",
                Field("identity_confirmed", wrapper_class="border rounded py-2 pe-2 ps-5 bg-warning-subtle"),
            ),
            "met",
            Div(
                HTML(
                    '<div class="alert alert-warning small js-third-party-rule d-none" role="note">'
                    + str(
                        _(
                            "Only a third party was met: do not disclose the debt. You may ask for contact details "
                            "or leave a message to call back; stop if asked. No debt details are recorded."
                        )
                    )
                    + "</div>"
                ),
            ),
            Div(
                Fieldset(
                    _("Financial situation"),
                    "monthly_income",
                    "monthly_expenses",
                    "other_debt_payments",
                    "overdue_reason",
                    "overdue_reason_text",
                ),
                css_class="js-debt-fields",
            ),
            Fieldset(_("Outcome"), *outcome),
            self.found_fieldset(),
        )

    def clean_photos(self):
        files = self.cleaned_data.get("photos") or []
        errors = []
        for upload in files:
            try:
                photo_rules.inspect_photo(upload)
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return files

    def clean_kept_photos(self):
        tokens = self.cleaned_data.get("kept_photos") or []
        self.kept_files = []
        kept = []
        for token in tokens:
            upload = uploads.held_upload_open(token, owner_id=self.owner.pk, scope=self._hold_scope)
            if upload is None:
                # Shown above the form: the field itself is left out once nothing is kept.
                self.add_error(None, _("A kept photo is no longer on the server: attach it again."))
                continue
            kept.append(token)
            self.kept_files.append(upload)
        return kept

    def clean(self):
        data = super().clean()
        checked_in = data.get("checked_in_at")
        if checked_in is not None and not self.has_error("checked_out_at"):
            data["checked_out_at"] = data.get("checked_out_at") or max(timezone.now(), checked_in)
            problems = visit_problems(
                checked_in_at=checked_in,
                checked_out_at=data["checked_out_at"],
                met=data.get("met", ""),
                outcome=data.get("outcome", ""),
                geo_status=data.get("geo_status", ""),
                lat=data.get("lat"),
                lng=data.get("lng"),
                debt={field: data.get(field) for field in DEBT_FIELDS},
            )
            for field, messages in problems.items():
                self.add_error(field if field in self.fields else None, messages)
        self.clean_found_contact(data)
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        fields = (
            "checked_in_at",
            "checked_out_at",
            "identity_confirmed",
            "met",
            "outcome",
            "lat",
            "lng",
            "accuracy_m",
            "geo_status",
            *DEBT_FIELDS,
            "attitude",
            "notes",
            "photos",
        )
        kwargs = {
            "idempotency_key": data["idempotency_key"],
            "found_contact": data.get("found_contact"),
            **{f: data.get(f) for f in fields},
        }
        kwargs["photos"] = [*(data.get("photos") or []), *self.kept_files]
        return kwargs
