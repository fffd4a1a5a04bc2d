from django.urls import path

from visits import pwa, sync, views, views_today

urlpatterns = [
    path("cases/<int:pk>/contact/", views.contact_attempt_create, name="contact-attempt-create"),
    path("cases/<int:pk>/preparation/", views.visit_plan_edit, name="case-preparation"),
    path("cases/<int:pk>/visits/new/", views.visit_create, name="visit-create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("visits/photos/<int:pk>/", views.visit_photo, name="visit-photo"),
    # The field day: today's route, offline capture (PWA) and its sync.
    path("today/", views_today.today, name="today"),
    path("sync/visits/", sync.visit_sync, name="visit-sync"),
    path("sync/conflicts/", sync.sync_conflict_list, name="sync-conflict-list"),
    path("sync/conflicts/<int:pk>/", sync.sync_conflict_detail, name="sync-conflict-detail"),
    path("sync/conflicts/<int:pk>/discard/", sync.sync_conflict_discard_view, name="sync-conflict-discard"),
    path("manifest.webmanifest", pwa.manifest, name="pwa-manifest"),
    path("sw.js", pwa.service_worker, name="pwa-service-worker"),
]
