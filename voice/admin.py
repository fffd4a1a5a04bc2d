from django.contrib import admin

from voice.models import Complaint


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "category", "source", "owner", "acknowledged_at", "resolved_at")
    list_filter = ("category", "source")
    raw_id_fields = ("case", "collector_named", "owner", "logged_by")
