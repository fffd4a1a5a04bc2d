from django.contrib import admin

from voice.models import BorrowerLink, Complaint


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "category", "source", "owner", "acknowledged_at", "resolved_at")
    list_filter = ("category", "source")
    raw_id_fields = ("case", "collector_named", "owner", "logged_by")


@admin.register(BorrowerLink)
class BorrowerLinkAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "created_by", "expires_at", "revoked_at", "last_used_at")
    raw_id_fields = ("case", "created_by", "revoked_by")
    exclude = ("token_id",)
