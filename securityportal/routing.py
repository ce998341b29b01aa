"""Which side of the product a request is for: the JSON API, signed in by bearer
token alone, or the pages, signed in by the session cookie."""

from django.http import HttpRequest

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)
