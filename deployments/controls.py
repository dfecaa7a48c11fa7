"""The war room's per-viewer controls stylesheet (``/releases/<id>/controls.css``).

Fragments are rendered once for every viewer, with every control in them, hidden by
default (warroom.css); this stylesheet shows the viewer the controls they may use. It
is served as a file rather than inlined in the page, so the Content-Security-Policy
allows no inline style. The server checks every action again: CSS only hides.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from deployments.views import _viewable, controls_css


@login_required
@require_GET
def controls_stylesheet(request: HttpRequest, release_id: int) -> HttpResponse:
    """CSS for this viewer's controls on this release; 403 (audited) for an outsider."""
    release, st = _viewable(request, release_id)
    response = HttpResponse(controls_css(st, release), content_type="text/css")
    # Per person and per moment (roles change during the night): never shared, never reused.
    response["Cache-Control"] = "private, no-store"
    return response
