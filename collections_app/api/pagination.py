from rest_framework.pagination import CursorPagination


class DoorstepCursorPagination(CursorPagination):
    """Stable under inserts: a cursor on the id, newest first."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
