from django.urls import path

from voice import views, views_link

urlpatterns = [
    path("cases/<int:pk>/complaints/new/", views.complaint_create, name="complaint-create"),
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint-detail"),
    path("complaints/<int:pk>/acknowledge/", views.complaint_acknowledge, name="complaint-acknowledge"),
    path("cases/<int:pk>/borrower-link/", views_link.case_link, name="case-link"),
    path("borrower-links/<int:pk>/revoke/", views_link.link_revoke, name="link-revoke"),
    path("b/<str:token>/", views_link.borrower_page, name="borrower-page"),
]
