from django.urls import path

from evidence import views

urlpatterns = [
    path("evidence/verify/", views.verify_page, name="evidence-verify"),
]
