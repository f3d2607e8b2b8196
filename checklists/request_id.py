"""One id per request: in every log line written while it runs and in its X-Request-ID header.

A clinician who meets the error page quotes the id; the administrator finds the traceback
with it. The id is always made here, never taken from the request, so a client cannot put
text of its choosing into the logs. This module imports no models: the logging
configuration loads it before the apps are ready.
"""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"

_current: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being handled in this thread, or "-" outside one."""
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every record so the formatter can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs 4xx responses after the middleware has returned, but passes the
        # request along with the record.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _current.get()
        return True
