from django.urls import path

from collections_app.views import search

urlpatterns = [path("search/", search.search, name="search")]
