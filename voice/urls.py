from django.urls import path

from voice import views

urlpatterns = [
    path("cases/<int:pk>/complaints/new/", views.complaint_create, name="complaint-create"),
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint-detail"),
    path("complaints/<int:pk>/acknowledge/", views.complaint_acknowledge, name="complaint-acknowledge"),
]
