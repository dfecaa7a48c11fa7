"""War room, board and release pages. Thin: they call selectors and services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deployments import pages, selectors, services
from deployments.models import Release
from deployments.routing import ws_path
from warroom import clock, policies
from warroom.access import release_for
from warroom.errors import FieldError
from warroom.forms import parse_local_datetime
from warroom.htmx import announce
from warroom.people import services as people

SECTIONS = [("in_progress", "In progress"), ("upcoming", "Upcoming"), ("done", "Done")]


def _viewable(request: HttpRequest, release_id: int) -> tuple[Release, policies.Standing]:
    """The release, if the user may view it; a refusal is audited and answered 403."""
    return release_for(request.user, release_id, target={"page": request.path})


@login_required
@require_GET
def release_list(request: HttpRequest) -> HttpResponse:
    groups = selectors.releases_by_state(user=request.user)
    # What nobody may miss, on the releases under way (a handful at most).
    alerts = {r.pk: selectors.summary(r).alerts for r in groups["in_progress"]}
    return render(
        request,
        "deployments/release_list.html",
        {
            "groups": groups,
            "sections": SECTIONS,
            "alerts": alerts,
            # "You were added to … as …": what was done to you since you last looked.
            "notices": people.notices_for(request.user),
        },
    )


@login_required
@require_GET
def warroom(request: HttpRequest, release_id: int) -> HttpResponse:
    release, st = _viewable(request, release_id)
    return render(
        request,
        "deployments/warroom.html",
        {
            "release": release,
            "body": pages.warroom_body(release),
            "standing": st,
            "my_role_ids": sorted(st.role_ids),
            "controls_css": controls_css(st, release),
            "ws_url": ws_path("live", release.pk) + f"?variant=warroom&after={release.last_seq}",
        },
    )


def _board(request, release, *, ws_url, sync_url):
    return HttpResponse(pages.board_page(request, release, ws_url=ws_url, sync_url=sync_url))


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
    return HttpResponse(pages.sync_fragments(release, "board"))


def _board_share(request: HttpRequest, release: Release, *, rotated: bool) -> HttpResponse:
    url = request.build_absolute_uri(reverse("board-link", args=[release.board_token]))
    response = render(
        request,
        "deployments/partials/board_share.html",
        {"release": release, "url": url, "rotated": rotated},
    )
    response["Cache-Control"] = "private, no-store"  # a secret: never kept by a cache
    return response


@login_required
@require_GET
def board_share(request: HttpRequest, release_id: int) -> HttpResponse:
    """The board's secret link with copy and rotate, for those who may edit the plan."""
    release, _ = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "board link"}
    )
    return _board_share(request, release, rotated=False)


@login_required
@require_POST
def rotate_board_link(request: HttpRequest, release_id: int) -> HttpResponse:
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "board link"}
    )
    release = services.release_rotate_board_link(release=release, user=request.user, standing=st)
    response = _board_share(request, release, rotated=True)
    response["HX-Trigger"] = announce("New board link made; the old one no longer works.")
    return response


MY_NEXT_SHOWN = 8


@login_required
@require_GET
def my_next(request: HttpRequest, release_id: int) -> HttpResponse:
    """The viewer's open items, due soonest first, each with its tick where they may.

    Per viewer, so never part of the war room's shared body: the page fetches it after
    loading and again (debounced) after live changes. What is due and whose it is are
    decided here, once, for every screen.
    """
    release, st = _viewable(request, release_id)
    person_id = st.person.pk if st.person else None
    rows = selectors.next_items_for(release, role_ids=st.role_ids, person_id=person_id)
    now = clock.now()
    shown = [
        {
            "item": r.item,
            "due": r.due,
            "due_at": r.due_at,
            "overdue": r.overdue(now),
            "can_tick": bool(policies.check(st, policies.Action.TICK, item=r.item)),
        }
        for r in rows[:MY_NEXT_SHOWN]
    ]
    decisions = selectors.decisions_needed(release, st, now)
    response = render(
        request,
        "deployments/partials/my_next.html",
        {
            "release": release,
            "rows": shown,
            "total": len(rows),
            "due_now": sum(1 for r in rows if r.overdue(now)),
            "decisions": decisions,
            "show": bool(st.role_ids or st.person) and not _stakeholder_only(st),
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _stakeholder_only(st: policies.Standing) -> bool:
    return bool(st.role_ids) and not (st.role_ids - st.stakeholder_role_ids)


@login_required
@require_POST
def status_line(request: HttpRequest, release_id: int) -> HttpResponse:
    """Pin (or, empty, unpin) the board's status line; the live update shows it."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "status line"}
    )
    try:
        services.release_pin_status(
            release=release,
            user=request.user,
            text=request.POST.get("text", ""),
            next_update_at=parse_local_datetime(
                request.POST.get("next_update_at", ""), "next_update_at"
            ),
            standing=st,
        )
    except FieldError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    return HttpResponse(status=204)


@login_required
@require_GET
def release_sync(request: HttpRequest, release_id: int) -> HttpResponse:
    release, _ = _viewable(request, release_id)
    variant = "board" if request.GET.get("variant") == "board" else "warroom"
    return HttpResponse(pages.sync_fragments(release, variant))


def controls_css(st: policies.Standing, release: Release) -> str:
    """CSS that shows this viewer the controls they may use (the server checks again).

    Rows whose box the viewer may tick show the checkbox instead of the status mark.
    """
    if st.is_superuser or st.is_release_manager:
        scopes = [""]
    else:
        scopes = [".owner-none"] if st.is_member else []
        scopes += [f".owner-{rid}" for rid in sorted(st.role_ids)]
    controls = [f".item{s} .controls" for s in scopes]
    rules = [f"{row}{s} .tick" for s in scopes for row in (".item", ".gate-item")]
    marks = [f"{row}{s} .status-mark" for s in scopes for row in (".item", ".gate-item")]
    authority = st.is_superuser or st.is_release_manager
    if st.is_superuser:
        rules += [".signoff-controls", ".decide"]
    else:
        rules += [f".signoff-role-{rid}" for rid in sorted(st.role_ids)]
        for gate_id, deciding in pages.gate_deciders(release).items():
            if (deciding & st.role_ids) or (not deciding and st.is_release_manager):
                rules.append(f".decide-gate-{gate_id}")
                authority = True
    if authority:
        rules.append(".decide-rollback")
    if authority or st.is_member:
        rules.append(".raise-rollback")
    if policies.check(st, policies.Action.EDIT_PLAN):
        rules += [".share-board", ".edit-plan"]
    if policies.check(st, policies.Action.STEER_STEPS):
        rules.append(".steer-steps")
    # The engine's controls: the release manager's on every step, a role holder's on theirs.
    rules += (
        [".step .step-controls"]
        if st.is_superuser or st.is_release_manager
        else [f".step-owner-{rid} .step-controls" for rid in sorted(st.role_ids)]
    )
    css = ",".join(controls) + "{display:flex}" if controls else ""
    css += ",".join(rules) + "{display:revert}" if rules else ""
    css += ",".join(marks) + "{display:none}" if marks else ""
    if st.person is not None:
        # A proposal this person has answered needs no second answer from them.
        css += f".answered-by-{st.person.pk}{{display:none}}"
    return css


@login_required
@require_http_methods(["GET", "POST"])
def reuse(request: HttpRequest, release_id: int) -> HttpResponse:
    """A new release from this one's plan, with another T0 and a team chosen person by
    person (nobody is ticked but the one reusing it)."""
    release, _ = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "reuse as template"}
    )
    team = services.release_team(release)
    ctx: dict = {"release": release, "team": team}
    if request.method == "POST":
        chosen = set(request.POST.getlist("team"))
        try:
            go_live_at = parse_local_datetime(request.POST.get("go_live_at", ""), "go_live_at")
            if go_live_at is None:
                raise FieldError("go_live_at", "choose the go-live time (T0)")
            if not all(c.isdigit() for c in chosen):
                raise FieldError("team", "names people who are not on this release")
            new = services.release_clone(
                release=release,
                go_live_at=go_live_at,
                name=request.POST.get("name", ""),
                user=request.user,
                team=[int(c) for c in chosen],
            )
        except FieldError as exc:
            ctx.update(error=str(exc), chosen=chosen)
            return render(request, "deployments/clone.html", ctx, status=400)
        return redirect("warroom", new.pk)
    # Ticked at first: only the seats of the one reusing it.
    mine = {str(a.pk) for _, held in team for a in held if a.person.user_id == request.user.pk}
    ctx["chosen"] = mine
    return render(request, "deployments/clone.html", ctx)
