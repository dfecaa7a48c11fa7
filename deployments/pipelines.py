"""CI/CD pipelines that deploy by themselves report into the release's timeline.

The release manager makes a token for one release (:func:`token_issue`; the secret is
shown once, only its SHA-256 is kept) and may revoke it (:func:`token_revoke`). A
pipeline sends it as ``Authorization: Bearer wrp_…`` to report that it started,
finished or failed one of the release's ``pipeline`` steps, with a log excerpt. A
token used on another release is refused (403) and the attempt is audited on the
release it tried; a revoked token is refused (401), its first use after revocation
audited on its own release and later ones counted.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import F
from django.http import Http404

from deployments import engine
from deployments.models import PipelineToken, Release, Step, StepRun
from warroom import clock, events, policies
from warroom.errors import Conflict, FieldError, Refused

REPORT = "report_step"  # the action a pipeline attempts, as refusals name it


class Revoked(FieldError):
    """A revoked pipeline token (HTTP 401)."""

    status = 401

    def __init__(self) -> None:
        super().__init__("Authorization", "this pipeline token was revoked")


def token_issue(*, release: Release, name: str, user, standing=None) -> tuple[PipelineToken, str]:
    """Make a token for ``release``; returns the row and the secret (shown once)."""
    name = (name or "").strip()
    if not name:
        raise FieldError("name", "name the pipeline the token is for")
    if len(name) > 100:
        raise FieldError("name", "at most 100 characters")
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"pipeline_token": name})
    secret = PipelineToken.PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        events.lock_head(release)
        token = PipelineToken.objects.create(
            release=release,
            name=name,
            digest=PipelineToken.digest_of(secret),
            prefix=secret[:10],
            created_by=events.actor_label_for(user),
            created_at=clock.now(),
        )
        events.record(
            release,
            "pipeline_token.created",
            actor=user,
            data={"token": token.pk, "name": name, "prefix": token.prefix},
        )
    return token, secret


def token_revoke(*, token: PipelineToken, user, standing=None) -> PipelineToken:
    """Revoke ``token``: from now on it is refused."""
    release = token.release
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"pipeline_token": token.pk})
    with transaction.atomic():
        events.lock_head(release)
        done = PipelineToken.objects.filter(pk=token.pk, revoked_at=None).update(
            revoked_at=clock.now(), revoked_by=events.actor_label_for(user)
        )
        if not done:
            raise Conflict("token", f"{token} is already revoked")
        token.refresh_from_db()
        events.record(
            release,
            "pipeline_token.revoked",
            actor=user,
            data={"token": token.pk, "name": token.name, "prefix": token.prefix},
        )
    return token


def token_for(secret: str) -> PipelineToken | None:
    """The token a pipeline sent, revoked or not (the caller refuses a revoked one), or
    None when nobody made it."""
    if not secret or not secret.startswith(PipelineToken.PREFIX):
        return None
    return (
        PipelineToken.objects.select_related("release")
        .filter(digest=PipelineToken.digest_of(secret))
        .first()
    )


def refuse_revoked(token: PipelineToken) -> None:
    """Count a revoked token's use; the first after revocation is audited."""
    with transaction.atomic():
        PipelineToken.objects.filter(pk=token.pk).update(refused_uses=F("refused_uses") + 1)
        first = PipelineToken.objects.filter(pk=token.pk, refused_uses=1).exists()
        if first:
            events.record(
                token.release,
                "access.denied",
                actor_label=token.label,
                data={"action": REPORT, "reason": "the pipeline token was revoked",
                      "token": token.pk},
            )  # fmt: skip


def report(*, token: PipelineToken, release_id: int, step_id: int, state: str, log: str) -> StepRun:
    """A pipeline's report on a step of ``release_id``; the token must be that release's
    (else :class:`Refused`, audited on the release it tried)."""
    if token.release_id != release_id:
        other = Release.objects.filter(pk=release_id).first()
        reason = "this pipeline token belongs to another release"
        if other is not None:
            events.record(
                other,
                "access.denied",
                actor_label=token.label,
                data={"action": REPORT, "reason": reason, "step": step_id,
                      "token_release": token.release_id},
            )  # fmt: skip
        raise Refused(REPORT, reason)
    step = (
        Step.objects.select_related("phase__release")
        .filter(pk=step_id, phase__release_id=release_id)
        .first()
    )
    if step is None:
        raise Http404("no such step")
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        PipelineToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return engine.step_report(step=step, state=state, log=log, by=token.label)
