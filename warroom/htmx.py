"""What htmx answers tell the page besides their HTML: what to announce, what changed.

The page (static/warroom/warroom.js) reads the ``HX-Trigger`` header: ``warroom:announce``
puts the text in the page's live region, for screen readers and as a visible toast;
``warroom:changed`` asks the viewer's own fragments ("my next items") to refresh.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from django.http import HttpRequest


def announce(text: str, *, changed: bool = True) -> str:
    """An ``HX-Trigger`` header value announcing ``text``.

    ASCII-only JSON (``\\u`` escapes): a header carries Latin-1 at most, and a curly
    apostrophe or a dash in an item's text must arrive as typed.
    """
    triggers: dict[str, object] = {"warroom:announce": text}
    if changed:
        triggers["warroom:changed"] = True
    return json.dumps(triggers, ensure_ascii=True)


def typed_text(request: HttpRequest, field: str) -> str | None:
    """What the person typed into ``field``: the form field, or — from a page still open
    since before the inline fields — htmx's ``HX-Prompt`` header, which htmx
    percent-encodes when the text is not Latin-1 and flags with
    ``HX-Prompt-URI-AutoEncoded``."""
    if field in request.POST:
        return request.POST[field]
    prompt = request.headers.get("HX-Prompt")
    if prompt is None:
        return None
    if request.headers.get("HX-Prompt-URI-AutoEncoded") == "true":
        return unquote(prompt)
    return prompt
