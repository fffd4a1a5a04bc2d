from django.contrib import admin

from collections_app.admin import ReadOnlyAdmin
from dashboard.models import DayTally, StateTally, TallyMark


@admin.register(DayTally)
class DayTallyAdmin(ReadOnlyAdmin):
    list_display = ("day", "metric", "team_id", "collector_id", "key", "n", "amount")
    list_filter = ("metric", "day")


@admin.register(StateTally)
class StateTallyAdmin(ReadOnlyAdmin):
    list_display = ("kind", "as_of", "taken_at", "branch_id", "team_id", "collector_id", "key", "key2", "n")
    list_filter = ("kind",)


@admin.register(TallyMark)
class TallyMarkAdmin(ReadOnlyAdmin):
    list_display = ("name", "upto", "rolled_at")
