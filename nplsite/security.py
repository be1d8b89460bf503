"""Security pieces of the site: the Content-Security-Policy header and the login lockout page.

Every response carries ``settings.CONTENT_SECURITY_POLICY`` (see settings.py). The policy allows
scripts, styles, fonts and connections from this site only, images from this site and ``data:``
URLs, no plugins, no ``<base>`` elsewhere, no framing and form posts to this site only — and no
``'unsafe-inline'``: the pages have no inline ``<script>``, ``<style>``, ``style=`` attribute or
``on…=`` handler (``tests/security/test_csp.py`` scans every page for them). The Django admin and
the Swagger UI satisfy the same policy: the Swagger UI's start-up script is served as a separate
file (``SpectacularSwaggerSplitView``) and its page has no inline style
(``templates/api/swagger_ui.html``).

A view that needs another policy sets the header itself; this middleware leaves it alone then.

The lockout after repeated failed logins is django-axes (settings ``AXES_*``);
:func:`locked_out_response` is the page it answers with and :func:`client_ip_address` the client
address it counts failures against.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.shortcuts import render

CSP_HEADER = "Content-Security-Policy"


def content_security_policy_middleware(get_response):
    policy = settings.CONTENT_SECURITY_POLICY

    def middleware(request):
        response = get_response(request)
        if policy and CSP_HEADER not in response:
            response[CSP_HEADER] = policy
        return response

    return middleware


def locked_out_response(request, original_response=None, credentials=None):
    """What a locked-out login attempt (site or admin login) gets: 429 and a page saying how long to wait.

    Called by django-axes (``AXES_LOCKOUT_CALLABLE``) instead of the login page; the password was
    not checked.
    """
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = max(1, math.ceil(cooloff.total_seconds() / 60))
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(cooloff.total_seconds()))
    return response


def client_ip_address(request) -> str | None:
    """The client address a failed login counts against (django-axes ``AXES_CLIENT_IP_CALLABLE``).

    ``REMOTE_ADDR`` unless ``TRUSTED_PROXY_COUNT`` is N > 0: then the N-th address from the right of
    ``X-Forwarded-For``, i.e. the one the outermost of the N reverse proxies (each appending the
    address it was connected from) saw. Addresses further left were written by the client and are
    never used; a header with fewer than N addresses did not come through all the proxies, so
    ``REMOTE_ADDR`` is used.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
