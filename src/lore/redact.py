"""Keeping secrets out of everything lore prints, logs or stores in an error.

Three kinds of secret reach lore: API keys (read from the variable
``api_key_env`` names), passwords inside URLs (``https://user:pw@host``), and
the user's own text (documents and queries) that a misbehaving server echoes
back in an error body. Error messages and settings displays pass through here
before anyone sees them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# Whatever follows these words is a credential, whoever sent it.
_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic|token|api[-_]?key|password|secret)"
                         r"(\"?\s*[:=]?\s*\"?)([^\s\"',;}]+)")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]*):([^/@\s]*)@")
# A server message sharing this many characters with a text we sent repeats the
# request; shorter overlaps are ordinary words.
_ECHO_WINDOW = 24


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (the user name is kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _URL_USERINFO.sub(rf"\1\2:{MASK}@", url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{parts.username or ''}:{MASK}@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scrub(message: str, secrets: Iterable[str] = ()) -> str:
    """``message`` safe to show: known secrets, credentials and URL passwords masked.

    Args:
        message: text that came from elsewhere (a server's error body).
        secrets: values that must not appear (API keys, the texts that were sent).
            A message that repeats a long stretch of one of them is replaced whole.
    """
    values = [s for s in secrets if s]
    for value in values:
        if len(value) >= 4:
            message = message.replace(value, MASK)
    message = _URL_USERINFO.sub(rf"\1\2:{MASK}@", message)
    message = _CREDENTIAL.sub(rf"\1\2{MASK}", message)
    if _echoes(message, values):
        return "(the server's message repeats the request text; not shown)"
    return message


def _echoes(message: str, texts: list[str]) -> bool:
    """Whether ``message`` contains a long stretch of any text (raw or JSON-escaped)."""
    if len(message) < _ECHO_WINDOW or not texts:
        return False
    haystacks = [*texts, *(json.dumps(t)[1:-1] for t in texts)]
    return any(message[i:i + _ECHO_WINDOW] in hay
               for i in range(len(message) - _ECHO_WINDOW + 1) for hay in haystacks)


def strings_in(value: Any) -> list[str]:
    """Every string inside a JSON-like value (a request body's texts)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in strings_in(item)]
    return []


def redact_settings(value: Any) -> Any:
    """Settings as nested dicts, with every URL's password masked (``lore config``)."""
    if isinstance(value, dict):
        return {k: redact_settings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_settings(item) for item in value]
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value
