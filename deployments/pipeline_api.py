"""The API a CI/CD pipeline calls, and the release manager's tokens for it.

A pipeline authenticates with its release's token (``Authorization: Bearer wrp_…``) and
nothing else: these endpoints take no session and no person's token, and a person's
endpoints take no pipeline token. Thin: :mod:`deployments.pipelines` decides.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from ninja.security import HttpBearer

from deployments import pipelines
from deployments.engine_api import RunOut
from deployments.models import PipelineToken
from warroom import policies
from warroom.access import object_in, release_for
from warroom.api import FILLED, WRITE_ERRORS, BodyIn, responses

router = Router()


class PipelineBearer(HttpBearer):
    """A release's pipeline token; a revoked one answers 401 saying so."""

    def authenticate(self, request: HttpRequest, token: str):
        found = pipelines.token_for(token)
        if found is None:
            return None
        if found.revoked_at is not None:
            pipelines.refuse_revoked(found)
            raise pipelines.Revoked()
        request.pipeline_token = found  # type: ignore[attr-defined]
        return found


class ReportIn(BodyIn):
    log: str = Field("", max_length=20000, description="An excerpt of the pipeline's log.")


class TokenIn(BodyIn):
    name: str = Field(pattern=FILLED, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str


class IssuedOut(TokenOut):
    token: str = Field(description="The secret: shown this once, stored only hashed.")


def _report(request, release_id: int, step_id: int, state: str, payload: ReportIn):
    return pipelines.report(
        token=request.auth, release_id=release_id, step_id=step_id, state=state, log=payload.log
    )


PIPELINE_AUTH = PipelineBearer()


@router.post(
    "/pipeline/releases/{release_id}/steps/{step_id}/start",
    response=responses({200: RunOut}, WRITE_ERRORS),
    auth=PIPELINE_AUTH,
    tags=["pipelines"],
)
def pipeline_start(request, release_id: int, step_id: int, payload: ReportIn):
    """The pipeline started the step (a ``pipeline`` step of this token's release)."""
    return _report(request, release_id, step_id, "start", payload)


@router.post(
    "/pipeline/releases/{release_id}/steps/{step_id}/finish",
    response=responses({200: RunOut}, WRITE_ERRORS),
    auth=PIPELINE_AUTH,
    tags=["pipelines"],
)
def pipeline_finish(request, release_id: int, step_id: int, payload: ReportIn):
    """The pipeline finished the step; the phase moves on."""
    return _report(request, release_id, step_id, "finish", payload)


@router.post(
    "/pipeline/releases/{release_id}/steps/{step_id}/fail",
    response=responses({200: RunOut}, WRITE_ERRORS),
    auth=PIPELINE_AUTH,
    tags=["pipelines"],
)
def pipeline_fail(request, release_id: int, step_id: int, payload: ReportIn):
    """The pipeline failed the step; the phase stops there, as for any failed step."""
    return _report(request, release_id, step_id, "fail", payload)


@router.get(
    "/releases/{release_id}/pipeline-tokens",
    response=responses({200: list[TokenOut]}),
    tags=["pipelines"],
)
def list_tokens(request, release_id: int):
    """The release's pipeline tokens (never their secrets)."""
    release, _ = release_for(request.user, release_id, policies.Action.EDIT_PLAN)
    return list(PipelineToken.objects.filter(release=release))


@router.post(
    "/releases/{release_id}/pipeline-tokens",
    response=responses({201: IssuedOut}, WRITE_ERRORS),
    tags=["pipelines"],
)
def create_token(request, release_id: int, payload: TokenIn):
    """Make a token a pipeline uses to report this release's steps (shown once)."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"pipeline_token": "new"}
    )
    token, secret = pipelines.token_issue(
        release=release, name=payload.name, user=request.user, standing=st
    )
    token.token = secret  # type: ignore[attr-defined]
    return Status(201, token)


@router.delete(
    "/releases/{release_id}/pipeline-tokens/{token_id}",
    response=responses({200: TokenOut}, WRITE_ERRORS),
    tags=["pipelines"],
)
def revoke_token(request, release_id: int, token_id: int):
    """Revoke the token: the pipeline's next call is refused."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"pipeline_token": token_id}
    )
    token = object_in(PipelineToken.objects.select_related("release"), token_id, release=release)
    return pipelines.token_revoke(token=token, user=request.user, standing=st)
