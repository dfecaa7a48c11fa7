"""Steps in the browser: the release manager attaches steps, runs the phase on a real
Celery worker and confirms a manual promote; every open war room follows it live."""

from __future__ import annotations

import json
import os

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, in_thread, login, wait_live
from tests.factories import team_release

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_rm_attaches_runs_and_promotes_steps_and_the_dba_watches_them_live(
    browser, server_factory, celery_factory, contexts
):
    def setup():
        team = team_release()
        for user in team.users.values():
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        return team

    team = in_thread(setup)
    queue = f"warroom-test-{os.getpid()}"
    server = server_factory(
        "web", extra_env={"DJANGO_ALLOW_ASYNC_UNSAFE": "", "CELERY_QUEUE": queue}
    )
    celery_factory("worker")
    phase = team.release.phases.get(name="Deployment Execution")
    warroom = f"/releases/{team.release.pk}/"
    rm = login(contexts(), server, "rm", warroom)
    dba = login(contexts(), server, "dba", warroom)
    wait_live(rm)
    wait_live(dba)

    def attach(kind: str, title: str, config: dict, *, confirm: bool = False) -> None:
        form = rm.locator("#steps .attach-step")
        if not form.evaluate("d => d.open"):
            form.locator("summary").click()
        form.locator("select[name=phase]").select_option(str(phase.pk))
        form.locator("select[name=kind]").select_option(kind)
        form.locator("input[name=title]").fill(title)
        form.locator("textarea[name=config]").fill(json.dumps(config))
        box = form.locator("input[name=requires_confirmation]")
        box.set_checked(confirm)
        form.get_by_role("button", name="Attach").click()
        expect(dba.locator("#steps .step", has_text=title)).to_be_visible()

    # A config with a mistake is refused, naming the field; nothing is attached.
    attach_form = rm.locator("#steps .attach-step")
    attach_form.locator("summary").click()
    attach_form.locator("input[name=title]").fill("Broken")
    attach_form.locator("select[name=kind]").select_option("http")
    attach_form.locator("textarea[name=config]").fill('{"method": "GET"}')
    with rm.expect_response(lambda r: r.url.endswith("/steps/attach")) as refused:
        attach_form.get_by_role("button", name="Attach").click()
    assert refused.value.status == 400 and "config.url" in refused.value.text()
    rm.watch.errors.clear()

    attach("http", "Health check", {"url": f"{server.url}/healthz"})
    attach("wait", "Promote to 100 %", {"seconds": 0}, confirm=True)

    # The DBA sees the steps but not their controls (the RM's to run).
    expect(dba.locator("#steps .step .step-controls").first).to_be_hidden()
    expect(dba.locator("#steps .run-steps")).to_be_hidden()

    rm.locator(f"#steps-phase-{phase.pk} .run-steps").get_by_role(
        "button", name="Run steps"
    ).click()
    health = dba.locator("#steps .step", has_text="Health check")
    expect(health).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(health.locator(".step-log")).to_contain_text("GET")
    promote = rm.locator("#steps .step", has_text="Promote to 100 %")
    expect(promote).to_have_attribute("data-state", "awaiting", timeout=10_000)
    promote.locator("input[name=note]").fill("canary clean for 10 minutes")
    promote.get_by_role("button", name="Confirm").click()
    expect(dba.locator("#steps .step", has_text="Promote to 100 %")).to_have_attribute(
        "data-state", "succeeded", timeout=20_000
    )
    expect(dba.locator("#event-list")).to_contain_text("confirmed “Promote to 100 %”: canary clean")
    assert rm.watch.errors == [] and dba.watch.errors == []


def test_the_rm_pauses_and_resumes_the_vp_aborts_and_every_war_room_follows(
    browser, server_factory, celery_factory, contexts, tmp_path
):
    from deployments import engine

    def setup():
        team = team_release()
        for user in team.users.values():
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        phase = team.release.phases.get(name="Deployment Execution")
        for title in ("Canary 10 %", "Canary 50 %"):
            engine.step_attach(phase=phase, user=team["rm"], kind="wait", title=title,
                               config={"seconds": 0}, requires_confirmation=True)  # fmt: skip
        engine.phase_run(phase=phase, user=team["rm"])
        return team

    team = in_thread(setup)
    queue = f"warroom-test-{os.getpid()}"
    server = server_factory(
        "web", extra_env={"DJANGO_ALLOW_ASYNC_UNSAFE": "", "CELERY_QUEUE": queue}
    )
    warroom = f"/releases/{team.release.pk}/"
    rm = login(contexts(), server, "rm", warroom)
    vp = login(contexts(), server, "vp", warroom)
    dba = login(contexts(), server, "dba", warroom)
    for page in (rm, vp, dba):
        wait_live(page)
    # The DBA (a role holder, no decision authority) has no pause or abort controls.
    expect(dba.locator("#steps .steer-steps")).to_be_hidden()

    steer = rm.locator("#steps .steer-steps")
    steer.locator("input[aria-label='Why pause']").fill("checkout latency is odd")
    steer.get_by_role("button", name="Pause steps").click()
    paused = dba.locator("#steps .steps-paused")
    expect(paused).to_contain_text("Paused by Rita Manager")
    expect(paused).to_contain_text("checkout latency is odd")
    expect(paused).to_contain_text("T-")
    rm.locator("#steps").screenshot(path=str(tmp_path / "paused.png"))

    resume = rm.locator("#steps form.steer-resume")
    expect(resume.locator("input[name=note]")).to_have_value("")  # the pause's note stays its own
    resume.get_by_role("button", name="Resume steps").click()
    expect(dba.locator("#steps .steps-paused")).to_have_count(0)

    # Abort needs a note: the browser asks for one first, the server would refuse too.
    abort = vp.locator("#steps form.steer-abort")
    abort.locator("input[name=note]").fill("payments vendor outage")
    abort.get_by_role("button", name="Abort").click()
    expect(dba.locator("#steps .release-closed")).to_contain_text(
        "Closed as cancelled: aborted: payments vendor outage"
    )
    expect(dba.locator("#steps .step", has_text="Canary 10 %")).to_have_attribute(
        "data-state", "skipped"
    )
    expect(dba.locator("#event-list")).to_contain_text("aborted the steps: payments vendor outage")
    assert rm.watch.errors == [] and vp.watch.errors == [] and dba.watch.errors == []
