from django.urls import path

from collections_app.views import imports

urlpatterns = [
    path("imports/", imports.import_list, name="import-list"),
    path("imports/<int:pk>/progress/", imports.import_progress, name="import-progress"),
    path("imports/<int:pk>/report/", imports.import_report, name="import-report"),
]
