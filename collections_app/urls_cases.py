from django.urls import path

from collections_app.views import cases

urlpatterns = [
    path("cases/", cases.case_list, name="case-list"),
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    path("cases/<int:pk>/transition/", cases.case_transition, name="case-transition"),
    path("cases/<int:pk>/contacts/verify/", cases.contact_point_status, name="contact-point-status"),
]
