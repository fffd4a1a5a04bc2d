from django.urls import path

from credentials import views

urlpatterns = [
    path("tokens/", views.token_list, name="token-list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_user, name="token-revoke-user"),
]
