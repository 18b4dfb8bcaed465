"""The API's pages: its own module, since DRF reads the pagination setting while naphs.api is being imported."""

from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's pages, but a `page` that is given and is not a page number (`?page=`) is refused as DRF refuses
    `?page=abc` (404), rather than read as the first page."""

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param)
        if number is not None and number != "last" and not (number.isascii() and number.isdigit()):
            raise NotFound(_("Invalid page."))
        return super().get_page_number(request, paginator)
