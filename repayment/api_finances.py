"""Declared vs verified finances behind JSON: declarations with their figures, evidence uploads (multipart)
and verification, through the same services as the finances page, scoped by ``Case.objects.visible_to``."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from collections_app.api.common import (
    CaseIdField,
    IdField,
    case_for_write,
    created_status,
    idempotency_key,
    money_field,
    validated,
)
from collections_app.api.exceptions import InputRefused, UnknownReference
from collections_app.api.filters import IdFilter, StrictFilterSet
from collections_app.api.serializers import UserSummarySerializer
from collections_app.api.views import DoorstepViewSet
from collections_app.models import Case
from collections_app.workflow import COLLECTOR, SUPERVISOR, actor_role
from repayment.discrepancies import discrepancies
from repayment.finances import figures_prefetch, from_declaration
from repayment.models import DeclaredFigure, FinanceEvidence, FinancialDeclaration
from repayment.services import finances as services
from visits import photos as photo_rules
from visits.models import Visit

IDEMPOTENCY_HELP = _("Optional, made once per form by the client: sending it again returns the first record (200).")


class EvidenceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text=_("The photo, for a signed-in browser session."))

    class Meta:
        model = FinanceEvidence
        fields = ["id", "kind", "content_type", "size", "sha256", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, item) -> str:
        return reverse("finance-evidence", args=[item.pk])


class FigureSerializer(serializers.ModelSerializer):
    evidence_items = EvidenceSerializer(many=True, read_only=True)
    verified_by = UserSummarySerializer(read_only=True, allow_null=True)
    employer = serializers.CharField(allow_blank=True, read_only=True)
    verification_note = serializers.CharField(allow_blank=True, read_only=True)
    effective_amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        read_only=True,
        help_text=_("What affordability counts: the verified amount once verified, the declared one until then."),
    )

    class Meta:
        model = DeclaredFigure
        fields = [
            "id",
            "declaration",
            "category",
            "kind",
            "amount",
            "employer",
            "status",
            "verified_amount",
            "effective_amount",
            "evidence",
            "verified_by",
            "verified_at",
            "verification_note",
            "evidence_items",
        ]
        read_only_fields = fields


class FlagSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True, allow_blank=True)


class DeclarationSerializer(serializers.ModelSerializer):
    recorded_by = UserSummarySerializer(read_only=True)
    figures = FigureSerializer(many=True, read_only=True)
    assets_seen = serializers.ListField(
        child=serializers.ChoiceField(choices=FinancialDeclaration.Asset.choices), read_only=True
    )
    note = serializers.CharField(allow_blank=True, read_only=True)

    class Meta:
        model = FinancialDeclaration
        fields = ["id", "case", "source", "visit", "assets_seen", "note", "recorded_by", "recorded_at", "figures"]
        read_only_fields = fields


class DeclarationDetailSerializer(DeclarationSerializer):
    flags = serializers.SerializerMethodField(
        help_text=_("Discrepancy flags: declared figures that conflict with what the bank knows.")
    )

    class Meta(DeclarationSerializer.Meta):
        fields = [*DeclarationSerializer.Meta.fields, "flags"]
        read_only_fields = fields

    @extend_schema_field(FlagSerializer(many=True))
    def get_flags(self, declaration) -> list[dict]:
        flags = discrepancies(declaration.case, from_declaration(declaration))
        return [{"code": f.code, "reason": f.reason, "category": f.category} for f in flags]


class _NameField(serializers.CharField):
    """A name as typed: NUL characters (which PostgreSQL cannot store) are dropped, not refused."""

    def to_internal_value(self, data):
        return super().to_internal_value(data.replace("\x00", "") if isinstance(data, str) else data)


class FigureInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DeclaredFigure.Kind.choices)
    amount = money_field(help_text=_("Declared a month."))
    employer = _NameField(max_length=200, allow_blank=True, default="", help_text=_("A salary only."))


class DeclarationCreateSerializer(serializers.Serializer):
    case = CaseIdField()
    source = serializers.ChoiceField(choices=FinancialDeclaration.Source.choices)
    visit = IdField(required=False, allow_null=True, help_text=_("One of the case's visits, when declared there."))
    assets_seen = serializers.ListField(
        child=serializers.ChoiceField(choices=FinancialDeclaration.Asset.choices),
        default=list,
        max_length=len(FinancialDeclaration.Asset.values),
    )
    note = serializers.CharField(max_length=500, allow_blank=True, default="")
    figures = serializers.ListField(child=FigureInSerializer(), min_length=1, max_length=services.MAX_FIGURES)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text=IDEMPOTENCY_HELP)

    def rule_errors(self, data) -> dict:
        errors = {}
        for index, row in enumerate(data["figures"]):
            if row["employer"].strip() and row["kind"] != DeclaredFigure.Kind.SALARY:
                errors[f"figures.{index}.employer"] = [_("An employer is named for a salary only.")]
        if len(set(data["assets_seen"])) != len(data["assets_seen"]):
            errors["assets_seen"] = [_("Name each asset once.")]
        return errors


class EvidenceCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FinanceEvidence.Kind.choices)
    photo = serializers.FileField(help_text=_("A JPEG, PNG or WebP photo of the document."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_override(self.fields["photo"], "field", {"type": "string", "format": "binary"})

    def rule_errors(self, data) -> dict:
        try:
            photo_rules.inspect_photo(data["photo"])
        except DjangoValidationError as exc:
            return {"photo": exc.messages}
        return {}


class VerifySerializer(serializers.Serializer):
    evidence = IdField(help_text=_("The evidence item, attached to this figure, that verifies it."))
    verified_amount = money_field(
        required=False, help_text=_("What the document shows a month. Absent: the declared amount.")
    )
    note = serializers.CharField(max_length=500, allow_blank=True, default="")


class UnverifySerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, help_text=_("Why the figure is unverified (required)."))


class DeclarationFilter(StrictFilterSet):
    case = IdFilter(field_name="case_id")
    source = django_filters.ChoiceFilter(choices=FinancialDeclaration.Source.choices)

    class Meta:
        model = FinancialDeclaration
        fields = ["case", "source"]


def _declarations(user):
    return (
        FinancialDeclaration.objects.filter(case__in=Case.objects.visible_to(user))
        .select_related("recorded_by", "case__account__borrower")
        .prefetch_related(figures_prefetch())
    )


@extend_schema_view(
    create=extend_schema(
        summary="Record declared monthly figures",
        description=(
            "The borrower's declared monthly income, expenses and other debts, by kind, at a visit or in "
            "negotiation. Every figure starts unverified. 201 when recorded; 200 with the declaration "
            "already recorded under the same idempotency key."
        ),
        request=DeclarationCreateSerializer,
        responses={
            201: DeclarationDetailSerializer,
            200: OpenApiResponse(DeclarationDetailSerializer, description="Already recorded with this idempotency key"),
        },
        filters=False,
    ),
    retrieve=extend_schema(responses=DeclarationDetailSerializer),
)
class DeclarationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DoorstepViewSet):
    """Financial declarations on the cases the user may see, with their figures and evidence."""

    serializer_class = DeclarationSerializer
    filterset_class = DeclarationFilter
    # JSON only: the figures are a list of objects, which a form body cannot carry.
    parser_classes = [JSONParser]

    def get_queryset(self):
        return _declarations(self.request.user).order_by("-recorded_at", "-id")

    def get_serializer_class(self):
        return DeclarationSerializer if self.action == "list" else DeclarationDetailSerializer

    def create(self, request, *args, **kwargs):
        data = dict(validated(DeclarationCreateSerializer, request.data))
        case = case_for_write(request.user, data.pop("case"))
        key = idempotency_key(request, data)
        visit_id = data.pop("visit", None)
        visit = None
        if visit_id is not None:
            visit = Visit.objects.filter(pk=visit_id, case=case).first()
            if visit is None:
                raise UnknownReference({"visit": [_("No such visit on this case.")]})
        declaration, created = services.declaration_record(
            case=case,
            actor=request.user,
            visit=visit,
            idempotency_key=key,
            figures=[dict(row) for row in data.pop("figures")],
            **data,
        )
        body = DeclarationDetailSerializer(self.get_queryset().get(pk=declaration.pk)).data
        return Response(body, status=created_status(created))


@extend_schema_view(
    evidence=extend_schema(
        summary="Attach evidence to a figure",
        request={"multipart/form-data": EvidenceCreateSerializer},
        responses={201: FigureSerializer},
    ),
    verify=extend_schema(summary="Mark a figure verified", request=VerifySerializer, responses=FigureSerializer),
    unverify=extend_schema(summary="Mark a figure unverified", request=UnverifySerializer, responses=FigureSerializer),
)
class FigureViewSet(mixins.RetrieveModelMixin, DoorstepViewSet):
    """One declared figure; its collector or supervisor attaches evidence and marks it verified or not."""

    serializer_class = FigureSerializer
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        evidence = FinanceEvidence.objects.order_by("id")
        return (
            DeclaredFigure.objects.filter(declaration__case__in=Case.objects.visible_to(self.request.user))
            .select_related(
                "verified_by",
                "declaration__case__account__borrower",
                "declaration__case__account__branch",
                "declaration__case__team__supervisor",
                "declaration__case__assigned_collector",
            )
            .prefetch_related(Prefetch("evidence_items", queryset=evidence))
        )

    def _writable(self) -> DeclaredFigure:
        figure = self.get_object()
        if actor_role(figure.declaration.case, self.request.user) not in (COLLECTOR, SUPERVISOR):
            raise PermissionDenied(_("You may read this case but not change it."))
        return figure

    def _answer(self, figure, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=figure.pk)).data, status=status)

    @action(detail=True, methods=["post"])
    def evidence(self, request, pk=None):
        figure = self._writable()
        data = validated(EvidenceCreateSerializer, request.data)
        services.evidence_attach(figure=figure, actor=request.user, kind=data["kind"], upload=data["photo"])
        return self._answer(figure, status=201)

    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        figure = self._writable()
        data = validated(VerifySerializer, request.data)
        evidence = FinanceEvidence.objects.filter(pk=data["evidence"], figure=figure).first()
        if evidence is None:
            raise InputRefused({"evidence": [_("Verify a figure with evidence attached to that figure.")]})
        services.figure_verify(
            figure=figure,
            actor=request.user,
            evidence=evidence,
            verified_amount=data.get("verified_amount"),
            note=data["note"],
        )
        return self._answer(figure)

    @action(detail=True, methods=["post"])
    def unverify(self, request, pk=None):
        figure = self._writable()
        data = validated(UnverifySerializer, request.data)
        services.figure_unverify(figure=figure, actor=request.user, note=data["note"])
        return self._answer(figure)
