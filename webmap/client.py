"""Logging in to the live map from a program (the benchmarks, a second dispatcher in the
browser tests): the same form a dispatcher posts, CSRF token included."""

from __future__ import annotations

import re

import requests

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of a page's form."""
    match = CSRF_FIELD.search(html)
    if match is None:
        raise ValueError("the page has no CSRF token")
    return match.group(1)


def log_in(url: str, name: str, password: str, *, timeout_s: float = 10.0) -> requests.Session:
    """An HTTP session logged in at ``url`` (the server's root) as ``name``."""
    http = requests.Session()
    page = http.get(url + "/login", timeout=timeout_s)
    response = http.post(
        url + "/login",
        data={"name": name, "password": password, "csrf_token": form_token(page.text)},
        allow_redirects=False,
        timeout=timeout_s,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {name!r} failed: HTTP {response.status_code}")
    return http


def cookie_header(http: requests.Session) -> str:
    """The session's cookies as a ``Cookie`` header (for a Socket.IO client)."""
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)
