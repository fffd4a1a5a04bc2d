from django.urls import path

from collections_app.views import screening

urlpatterns = [
    path("screening/", screening.screening, name="screening"),
    path("screening/open/", screening.screening_open, name="screening-open"),
    path("assignments/", screening.assignments, name="assignments"),
    path("assignments/bulk/", screening.case_bulk_assign, name="case-bulk-assign"),
    path("assignments/auto/", screening.case_auto_assign, name="case-auto-assign"),
    path("cases/<int:pk>/assign/", screening.case_assign_view, name="case-assign"),
    path("workload/", screening.workload, name="workload"),
]
