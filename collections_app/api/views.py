"""The case domain behind JSON: the same services and the same ``visible_to`` as the pages."""

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from collections_app.account_risk import with_risk
from collections_app.api import serializers as S
from collections_app.api.common import validated
from collections_app.api.exceptions import UnknownReference
from collections_app.api.filters import AccountFilter, CaseFilter
from collections_app.api.pagination import DoorstepCursorPagination
from collections_app.api.permissions import SupervisorWrites
from collections_app.models import BorrowerPhone, Case, DelinquentAccount, Team, User
from collections_app.services.cases import case_assign, case_open, case_transition
from collections_app.workflow import actor_role


class LoginNotRequiredMixin:
    """API views authenticate themselves (session or token), so the login-page redirect must not run first."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


class DoorstepViewSet(LoginNotRequiredMixin, viewsets.GenericViewSet):
    pagination_class = DoorstepCursorPagination
    lookup_value_converter = "int"


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """Any other path under /api/v1/ (e.g. a non-numeric id): a JSON 404 instead of the HTML page."""

    def handle(self, request, *args, **kwargs):
        raise NotFound()

    get = post = put = patch = delete = handle


def account_queryset(user):
    primary = BorrowerPhone.objects.filter(is_primary=True)
    return (
        with_risk(DelinquentAccount.objects.visible_to(user))
        .select_related("borrower", "branch")
        .prefetch_related(Prefetch("borrower__phones", queryset=primary, to_attr="primary_phones"))
    )


def case_queryset(user):
    return Case.objects.visible_to(user).select_related(
        "account__borrower", "account__branch", "team__branch", "assigned_collector"
    )


class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DoorstepViewSet):
    """Delinquent accounts the user may see (supervisor: their branches; collector: their cases' accounts)."""

    serializer_class = S.AccountSerializer
    filterset_class = AccountFilter

    def get_queryset(self):
        return account_queryset(self.request.user)


@extend_schema_view(
    create=extend_schema(
        summary="Open cases on accounts",
        request=S.CaseOpenSerializer,
        responses={201: S.CaseSerializer(many=True)},
        filters=False,
    ),
    assign=extend_schema(summary="Assign or reassign a case", request=S.CaseAssignSerializer),
    transition=extend_schema(summary="Move a case to another stage", request=S.CaseTransitionSerializer),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DoorstepViewSet):
    """Cases the user may see: collector their own, supervisor their team's, manager all."""

    serializer_class = S.CaseSerializer
    filterset_class = CaseFilter
    permission_classes = [*DoorstepViewSet.permission_classes, SupervisorWrites]
    supervisor_actions = {"create", "assign"}

    def get_queryset(self):
        return case_queryset(self.request.user)

    def _input(self, serializer_class):
        return validated(serializer_class, self.request.data)

    def create(self, request, *args, **kwargs):
        data = self._input(S.CaseOpenSerializer)
        ids = list(dict.fromkeys(data["account_ids"]))
        accounts = DelinquentAccount.objects.visible_to(request.user).select_related("branch").in_bulk(ids)
        unknown = [str(pk) for pk in ids if pk not in accounts]
        if unknown:
            raise UnknownReference({"account_ids": [_("Unknown accounts: %(ids)s.") % {"ids": ", ".join(unknown)}]})
        team = None
        if "team" in data:
            team = Team.objects.filter(pk=data["team"]).first()
            if team is None:
                raise UnknownReference({"team": [_("Unknown team.")]})
        with transaction.atomic():
            opened = [case_open(account=accounts[pk], actor=request.user, team=team).pk for pk in ids]
        cases = self.get_queryset().filter(pk__in=opened).order_by("id")
        return Response(self.get_serializer(cases, many=True).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        case = self.get_object()
        data = self._input(S.CaseAssignSerializer)
        collector = User.objects.filter(pk=data["collector"]).first()
        if collector is None:
            raise UnknownReference({"collector": [_("Unknown user.")]})
        case_assign(case=case, collector=collector, actor=request.user, reason=data["reason"])
        return Response(self.get_serializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        case = self.get_object()
        if actor_role(case, request.user) is None:
            # Like the case page: a manager reads every case but changes none (403, not a 400 refusal).
            raise PermissionDenied(_("You may read this case but not change it."))
        data = self._input(S.CaseTransitionSerializer)
        case_transition(
            case=case, target=data["target"], actor=request.user, close_reason=data["close_reason"], note=data["note"]
        )
        return Response(self.get_serializer(self.get_object()).data)
