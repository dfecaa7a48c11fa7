"""The communications page: the plan, the next status update (preview, edit, send now,
skip), the delivery log with retry; subscribing and the unsubscribe link."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from notifications import public_status, selectors, services
from notifications.models import CommsRule, Delivery, StatusComponent
from warroom import policies
from warroom.access import object_in, release_for
from warroom.errors import FieldError


def _page(request: HttpRequest, release, st, *, error: str = "", status: int = 200):
    rule = selectors.status_rule(release)
    can_edit = policies.check(st, policies.Action.EDIT_PLAN).allowed
    status_page, components = public_status.components_for(release)
    return render(
        request,
        "notifications/comms.html",
        {
            "release": release,
            "rules": selectors.rules(release),
            "status_rule": rule,
            "preview": services.preview(release, rule) if rule else None,
            "log": selectors.log(release),
            "last_sent": selectors.last_sent(release),
            "integrations": selectors.integrations(),
            "status_page": status_page,
            "components": components,
            "component_states": StatusComponent.State.choices,
            "can_edit": can_edit,
            "error": error,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def comms(request: HttpRequest, release_id: int) -> HttpResponse:
    release, st = release_for(request.user, release_id)
    return _page(request, release, st)


def _act(request: HttpRequest, release_id: int, rule_id: int | None, action):
    """Run ``action(release, rule)`` for the release manager; back to the page."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "comms plan"}
    )
    rule = object_in(CommsRule.objects.all(), rule_id, release=release) if rule_id else None
    try:
        action(release, rule)
    except FieldError as exc:
        return _page(request, release, st, error=str(exc), status=400)
    return redirect("comms", release_id=release.pk)


@login_required
@require_POST
def next_update(request: HttpRequest, release_id: int, rule_id: int) -> HttpResponse:
    """Edit, send now or skip the rule's next message (the button pressed says which)."""
    what = request.POST.get("do", "")
    text = request.POST.get("text", "")

    def act(release, rule):
        if what == "save":
            services.edit_next(release=release, rule=rule, user=request.user, text=text)
        elif what == "send":
            services.send_now(release=release, rule=rule, user=request.user, text=text)
        elif what == "skip":
            services.skip_next(release=release, rule=rule, user=request.user)
        else:
            raise FieldError("do", "must be save, send or skip")

    return _act(request, release_id, rule_id, act)


@login_required
@require_POST
def rule_edit(request: HttpRequest, release_id: int, rule_id: int) -> HttpResponse:
    channels = [c.strip() for c in request.POST.get("channels", "").split(",") if c.strip()]

    def act(release, rule):
        services.rule_change(
            release=release,
            rule=rule,
            user=request.user,
            enabled=request.POST.get("enabled") == "on",
            channels=channels,
            audience=request.POST.get("audience", ""),
        )

    return _act(request, release_id, rule_id, act)


@login_required
@require_POST
def delivery_retry(request: HttpRequest, release_id: int, delivery_id: int) -> HttpResponse:
    def act(release, _rule):
        target = object_in(Delivery.objects.all(), delivery_id, message__release=release)
        services.retry(release=release, target=target, user=request.user)

    return _act(request, release_id, None, act)


@login_required
@require_POST
def status_component(
    request: HttpRequest, release_id: int, component_id: int | None = None
) -> HttpResponse:
    """Add, change or remove a component of the release's product status page."""
    post = request.POST

    def act(release, _rule):
        if post.get("do") == "remove" and component_id is not None:
            public_status.component_remove(
                release=release, user=request.user, component_id=component_id
            )
            return
        public_status.component_save(
            release=release,
            user=request.user,
            component_id=component_id,
            name=post.get("name", ""),
            order=post.get("order", "0") or "0",
            state=post.get("state", ""),
            affected=post.get("affected") == "on",
        )

    return _act(request, release_id, None, act)


@login_required
@require_POST
def subscribe(request: HttpRequest, release_id: int) -> HttpResponse:
    release, st = release_for(request.user, release_id)
    try:
        services.subscribe(release=release, email=request.POST.get("email", ""))
    except FieldError as exc:
        return _page(request, release, st, error=str(exc), status=400)
    return redirect("comms", release_id=release.pk)


@csrf_exempt  # the signed token is the credential; mail clients' one-click POST has no cookie
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link scanners must not unsubscribe anyone); POST leaves."""
    if request.method == "GET":
        return render(request, "notifications/unsubscribe.html", {"token": token})
    try:
        release, email = services.unsubscribe(token)
    except FieldError as exc:
        return render(request, "notifications/unsubscribe.html", {"error": str(exc)}, status=400)
    return render(
        request,
        "notifications/unsubscribe.html",
        {"done": True, "release": release, "email": email},
    )
