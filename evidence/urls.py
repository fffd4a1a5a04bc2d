from django.urls import path

from evidence import views

urlpatterns = [
    path("evidence/verify/", views.verify_page, name="evidence-verify"),
    path("cases/<int:pk>/legal/", views.legal_escalation, name="case-legal"),
    path("evidence/packs/<int:pk>/pdf/", views.pack_pdf, name="evidence-pack-pdf"),
    path("evidence/packs/<int:pk>/manifest/", views.pack_manifest, name="evidence-pack-manifest"),
]
