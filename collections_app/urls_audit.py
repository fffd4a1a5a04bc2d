from django.urls import path

from collections_app.views import audit, security

urlpatterns = [
    path("audit/", audit.audit_list, name="audit-log"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    path("borrowers/<int:borrower_id>/reveal/<str:field>/", security.reveal, name="pii-reveal"),
]
