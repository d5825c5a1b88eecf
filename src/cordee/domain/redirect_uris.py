"""Which OAuth redirect URIs are safe to send a browser to, and how a page's policy names one.

A redirect URI is where ``/oauth/authorize`` sends (or form-posts) the person with a code. One that
runs script — ``javascript:``, ``data:``, ``vbscript:`` … — would run it in this site's origin, with
the signed-in person's cookies: an XSS. The rule is Doorkeeper's (what Mastodon uses), made strict:

- an absolute, hierarchical URI (``scheme:/…`` or ``scheme://…``; no opaque ``scheme:stuff``),
  with no fragment (RFC 6749 §3.1.2), and a host for http and https;
- only the characters RFC 3986 allows in a URI: no spaces, tabs, newlines, control characters,
  quotes or backslashes, which browsers strip or reinterpret (``java\\tscript:`` is ``javascript:``);
- never a scheme that shows or runs content instead of handing it to an application.

The out-of-band URI of Mastodon clients is the one exception (the code is shown on a page).
It is checked at registration *and* each time a URI is used, for apps stored before the rule.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

OOB_URI = "urn:ietf:wg:oauth:2.0:oob"
MAX_LENGTH = 2000
#: Schemes a browser handles itself by running or showing content in some origin.
FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "vbscript", "file", "blob", "filesystem", "about", "view-source", "jar", "mhtml"}
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# RFC 3986 unreserved, reserved and "%" (percent-encodings): every character a URI may hold.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_HOST = re.compile(r"[a-z0-9.\-]+|[0-9a-f:.]+")  # a name or an IP address, as urlsplit gives them


def valid_redirect_uri(uri: str) -> bool:
    if uri == OOB_URI:
        return True
    if not uri or len(uri) > MAX_LENGTH or not _URI_CHARS.fullmatch(uri) or "#" in uri:
        return False
    scheme, sep, rest = uri.partition(":")
    if not sep or not _SCHEME.fullmatch(scheme) or scheme.lower() in FORBIDDEN_SCHEMES:
        return False
    if not rest.startswith("/"):  # opaque (``scheme:payload``): what javascript: and data: look like
        return False
    if scheme.lower() in ("http", "https"):
        try:
            parts = urlsplit(uri)
            _ = parts.port  # raises on a port that is not a number
        except ValueError:
            return False
        return bool(parts.hostname) and rest.startswith("//")
    return True


def form_action_source(uri: str) -> str | None:
    """The Content-Security-Policy source that lets a page's form reach ``uri`` (and lets the
    redirect after a form reach it: browsers check form-action on redirects too), or None.

    An http(s) URI is named by its origin (CSP ignores the path after a redirect anyway); another
    scheme by the scheme alone (``com.example.app:``), as CSP cannot name such a URI's host.
    """
    if not valid_redirect_uri(uri) or uri == OOB_URI:
        return None
    scheme = uri.partition(":")[0].lower()
    if scheme not in ("http", "https"):
        return f"{scheme}:"
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if not _HOST.fullmatch(host):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{parts.port}" if parts.port is not None else "")
