from django.contrib import admin

from collections_app.admin import ReadOnlyAdmin
from risk.models import CareCase, RiskModel, RiskScore, StatementImport, Strategy, StrategyAssignment


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "filename", "status", "created_count", "unchanged_count", "error_count")


@admin.register(RiskModel)
class RiskModelAdmin(ReadOnlyAdmin):
    list_display = ("version", "status", "algorithm", "test_period", "created_at")
    exclude = ("artifact",)


@admin.register(RiskScore)
class RiskScoreAdmin(ReadOnlyAdmin):
    list_display = ("account", "period_end", "score", "model", "is_current")
    list_select_related = ("account", "model")
    raw_id_fields = ("account",)


@admin.register(CareCase)
class CareCaseAdmin(ReadOnlyAdmin):
    list_display = ("account", "team", "assigned_collector", "status", "outcome", "opened_at")
    list_select_related = ("account", "team", "assigned_collector")


@admin.register(Strategy)
class StrategyAdmin(ReadOnlyAdmin):
    list_display = ("name", "first_step", "first_due_days", "weight", "is_holdout", "is_active")


@admin.register(StrategyAssignment)
class StrategyAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("case", "strategy", "draw", "assigned_at")
    list_select_related = ("case__account", "strategy")
