from django.contrib import admin

from credentials.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "family", "created_at", "expires_at", "used_at", "revoked_at")
    list_filter = ("kind",)
    search_fields = ("user__username",)
    readonly_fields = ("user", "kind", "family", "created_at", "expires_at", "used_at", "revoked_at")
    exclude = ("digest",)

    def has_add_permission(self, request) -> bool:
        return False
