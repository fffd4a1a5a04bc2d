from django.urls import path

from visits import views

urlpatterns = [
    path("cases/<int:pk>/contact/", views.contact_attempt_create, name="contact-attempt-create"),
    path("cases/<int:pk>/preparation/", views.visit_plan_edit, name="case-preparation"),
    path("cases/<int:pk>/visits/new/", views.visit_create, name="visit-create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("visits/photos/<int:pk>/", views.visit_photo, name="visit-photo"),
]
