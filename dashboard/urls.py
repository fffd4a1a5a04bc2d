from django.urls import path

from dashboard import api, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("api/v1/dashboard/", api.DashboardAPIView.as_view(), name="api-dashboard"),
]
