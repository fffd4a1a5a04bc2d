from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from collections_app.models import (
    AccountBucketSnapshot,
    AuditLog,
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Branch,
    Case,
    CaseEvent,
    DelinquentAccount,
    ImportJob,
    Notification,
    RulePack,
    Team,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "get_full_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Doorstep"), {"fields": ("role", "team", "region")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("Doorstep"), {"fields": ("role", "team", "region")}))


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region", "timezone")
    search_fields = ("code", "name", "region")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "branch", "supervisor")
    list_filter = ("branch",)
    list_select_related = ("branch", "supervisor")


# Skip tracing is recorded in the field, audited with its history (collections_app.services.contacts): read only
# here, and no select of every case or user.
CONTACT_POINT_READONLY = (
    "party",
    "holder",
    "source",
    "status",
    "found_on",
    "found_by",
    "found_case",
    "status_changed_at",
)


class PhoneInline(admin.TabularInline):
    model = BorrowerPhone
    extra = 0
    readonly_fields = CONTACT_POINT_READONLY


class AddressInline(admin.TabularInline):
    model = BorrowerAddress
    extra = 0
    readonly_fields = CONTACT_POINT_READONLY


@admin.register(Borrower)
class BorrowerAdmin(admin.ModelAdmin):
    list_display = ("name", "national_id_masked", "employer")
    search_fields = ("name",)
    readonly_fields = ("national_id_masked",)
    inlines = [PhoneInline, AddressInline]

    @admin.display(description=_("national ID"))
    def national_id_masked(self, obj):
        return obj.national_id_masked


@admin.register(DelinquentAccount)
class DelinquentAccountAdmin(admin.ModelAdmin):
    list_display = ("account_no", "borrower", "branch", "product", "overdue_amount", "overdue_since")
    list_filter = ("branch", "product")
    search_fields = ("account_no", "borrower__name")
    list_select_related = ("borrower", "branch")
    raw_id_fields = ("borrower",)


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "kind", "from_stage", "to_stage", "payload")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "stage", "team", "assigned_collector", "next_action_due")
    list_filter = ("stage", "team")
    search_fields = ("account__account_no", "account__borrower__name")
    list_select_related = ("account", "team__branch", "assigned_collector")
    raw_id_fields = ("account",)
    # The stage changes only through the workflow service, never by editing here.
    readonly_fields = ("stage", "stage_changed_at", "closed_at", "close_reason")
    inlines = [CaseEventInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only services and tasks write (the audit trail, the aggregates): visible to staff, never edited
    by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor__username")


@admin.register(RulePack)
class RulePackAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "quiet_start", "quiet_end", "max_unanswered_attempts", "retention_years")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "message", "read_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)


@admin.register(AccountBucketSnapshot)
class AccountBucketSnapshotAdmin(admin.ModelAdmin):
    list_display = ("as_of", "account", "bucket", "dpd", "overdue_amount")
    list_filter = ("as_of", "bucket")
    raw_id_fields = ("account",)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "filename", "status", "total_rows", "error_count", "created_by")
    list_filter = ("status",)
