"""War room, board and release pages. Thin: they call selectors and services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from checklists import services as checklist_services
from checklists.models import ChecklistItem
from deployments import fragments, selectors, services
from deployments.models import Release
from warroom import policies
from warroom.errors import FieldError
from warroom.routing import ws_path

SECTIONS = [("in_progress", "In progress"), ("upcoming", "Upcoming"), ("done", "Done")]


def _viewable(request: HttpRequest, release_id: int) -> tuple[Release, policies.Standing]:
    """The release, if the user may view it; a refusal is audited and answered 403."""
    release = get_object_or_404(Release, pk=release_id)
    st = policies.standing(request.user, release)
    policies.require(st, policies.Action.VIEW, release, target={"page": request.path})
    return release, st


@login_required
@require_GET
def release_list(request: HttpRequest) -> HttpResponse:
    groups = selectors.releases_by_state(user=request.user)
    return render(
        request, "deployments/release_list.html", {"groups": groups, "sections": SECTIONS}
    )


@login_required
@require_GET
def warroom(request: HttpRequest, release_id: int) -> HttpResponse:
    release, st = _viewable(request, release_id)
    s = selectors.summary(release)
    checklists = selectors.warroom_checklists(release)
    for c in checklists:
        c.progress = s.per_checklist.get(c.pk, selectors.Progress())
    return render(
        request,
        "deployments/warroom.html",
        {
            "release": release,
            "s": s,
            "checklists": checklists,
            "gates": s.gate_summaries,
            "standing": st,
            "my_role_ids": sorted(st.role_ids),
            "controls_css": fragments.controls_css(st, release),
            "ws_url": ws_path("live", release.pk) + f"?variant=warroom&after={release.last_seq}",
        },
    )


def _board(request, release, *, ws_url, sync_url):
    s = selectors.summary(release, for_board=True)
    return render(
        request,
        "deployments/board.html",
        {"release": release, "s": s, "ws_url": ws_url, "sync_url": sync_url},
    )


@login_required
@require_GET
def board(request: HttpRequest, release_id: int) -> HttpResponse:
    release, _ = _viewable(request, release_id)
    return _board(
        request,
        release,
        ws_url=ws_path("live", release.pk) + f"?variant=board&after={release.last_seq}",
        sync_url=reverse("release-sync", args=[release.pk]) + "?variant=board",
    )


@require_GET
def board_link(request: HttpRequest, token: str) -> HttpResponse:
    """The stakeholders' board through the release's secret link (no account needed)."""
    release = Release.objects.filter(board_token=token).first()
    if release is None:
        raise Http404("This board link is not valid (it may have been rotated).")
    return _board(
        request,
        release,
        ws_url=ws_path("board", token) + f"?after={release.last_seq}",
        sync_url=reverse("board-link-sync", args=[token]),
    )


@require_GET
def board_link_sync(request: HttpRequest, token: str) -> HttpResponse:
    release = Release.objects.filter(board_token=token).first()
    if release is None:
        raise Http404("This board link is not valid.")
    return HttpResponse(fragments.render_sync(release, "board"))


@login_required
@require_POST
def rotate_board_link(request: HttpRequest, release_id: int) -> HttpResponse:
    release = get_object_or_404(Release, pk=release_id)
    release = services.release_rotate_board_link(release=release, user=request.user)
    url = request.build_absolute_uri(reverse("board-link", args=[release.board_token]))
    return HttpResponse(f'<a href="{url}" id="board-link">{url}</a>')


@login_required
@require_GET
def release_sync(request: HttpRequest, release_id: int) -> HttpResponse:
    release, _ = _viewable(request, release_id)
    variant = "board" if request.GET.get("variant") == "board" else "warroom"
    return HttpResponse(fragments.render_sync(release, variant))


@login_required
@require_POST
def item_status(request: HttpRequest, release_id: int, item_id: int) -> HttpResponse:
    """htmx: change an item's status; answers with the re-rendered row."""
    item = get_object_or_404(
        ChecklistItem.objects.select_related("checklist__release", "owner_role", "assignee"),
        pk=item_id,
        checklist__release_id=release_id,
    )
    note = request.headers.get("HX-Prompt")
    if note is None:
        note = request.POST.get("note")
    try:
        item = checklist_services.item_set_status(
            item=item, status=request.POST.get("status", ""), note=note, user=request.user
        )
    except FieldError as exc:
        return HttpResponse(str(exc), status=400)
    item = ChecklistItem.objects.select_related("owner_role", "assignee").get(pk=item.pk)
    return HttpResponse(fragments.render_item(item.checklist.release, item))
