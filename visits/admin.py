from django.contrib import admin

from visits.models import ContactAttempt, Visit, VisitPhoto, VisitPlan


class VisitPhotoInline(admin.TabularInline):
    model = VisitPhoto
    extra = 0
    fields = ("sha256", "content_type", "size", "width", "height", "uploaded_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ("case", "collector", "checked_in_at", "met", "outcome", "geo_status")
    list_filter = ("outcome", "met", "geo_status")
    raw_id_fields = ("case", "collector")
    readonly_fields = ("idempotency_key", "created_at")
    inlines = [VisitPhotoInline]


@admin.register(ContactAttempt)
class ContactAttemptAdmin(admin.ModelAdmin):
    list_display = ("case", "actor", "channel", "party", "result", "attempted_at")
    list_filter = ("channel", "result", "party")
    raw_id_fields = ("case", "actor")
    exclude = ("phone_number",)  # personal data: shown masked on the case page only


@admin.register(VisitPlan)
class VisitPlanAdmin(admin.ModelAdmin):
    list_display = ("case", "planned_at", "contact_verified", "history_reviewed", "consent_outside_hours")
    raw_id_fields = ("case", "address", "updated_by")
