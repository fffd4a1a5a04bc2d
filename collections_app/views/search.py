"""The search box's results page: one query string in, the accounts the user may see out."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from collections_app.selectors import search as selectors


@require_GET
def search(request):
    query = request.GET.get("q", "")
    terms = selectors.SearchTerms.parse(query)
    context = {"query": query.strip(), "terms": terms, "min_length": selectors.MIN_QUERY_LENGTH}
    if terms is not None:
        ids = selectors.search_account_ids(request.user, terms)
        capped = len(ids) > selectors.SEARCH_CAP
        rows = selectors.search_rows(request.user, ids[: selectors.SEARCH_CAP])
        page = Paginator(rows, selectors.SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
        context |= {
            "page": page,
            "rows": selectors.decorate_rows(page.object_list),
            "capped": capped,
            "cap": selectors.SEARCH_CAP,
        }
    return render(request, "collections_app/search.html", context)
