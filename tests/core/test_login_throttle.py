"""Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
username from one address, even the right password is refused, with a page that says
why and for how long; the lockout is logged and an administrator can lift it."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # A cheap hasher: these tests check a password hundreds of times; the throttle is the
    # same whatever the hash costs.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rm():
    return get_user_model().objects.create_user("rm", password=PASSWORD)


def attempt(client, password, username="rm", **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sixty_wrong_passwords_then_the_right_one_is_refused_with_a_clear_page(client, rm, caplog):
    caplog.set_level(logging.WARNING)
    statuses = [attempt(client, f"guess-{n}").status_code for n in range(60)]
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 10
    # The form re-asks until the limit, then every answer is the lockout page.
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert set(statuses[limit:]) == {429}

    resp = attempt(client, PASSWORD)
    assert resp.status_code == 429
    assert not logged_in(client)
    page = resp.content.decode()
    assert "Login locked" in page
    assert "Too many wrong passwords" in page and "<strong>rm</strong>" in page
    assert "15 minutes" in page
    assert "axes_reset_username rm" in page
    # Logged: each failure and the lockout, with who and from where, never the password.
    lockouts = [r.getMessage() for r in caplog.records if r.name == "warroom.auth"]
    assert lockouts and "login locked: username 'rm' from 127.0.0.1" in lockouts[0]
    assert "axes_reset_username rm" in lockouts[0]
    assert PASSWORD not in caplog.text and "guess-1" not in caplog.text


def test_a_new_x_forwarded_for_on_each_attempt_does_not_dodge_the_lock(client, rm):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    resp = attempt(client, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert resp.status_code == 429 and not logged_in(client)


def test_the_lock_is_per_username_and_address_so_a_stranger_cannot_lock_out_the_rm(client, rm):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", REMOTE_ADDR="203.0.113.9")  # someone else's machine
    resp = attempt(client, PASSWORD, REMOTE_ADDR="192.0.2.20")  # the RM's laptop
    assert resp.status_code == 302 and logged_in(client)


def test_fewer_wrong_passwords_than_the_limit_do_not_lock_and_a_success_forgets_them(client, rm):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302


def test_the_reset_command_lifts_a_lockout(client, rm):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "rm")
    assert attempt(client, PASSWORD).status_code == 302 and logged_in(client)


def test_the_admin_login_is_throttled_too(client, rm):
    rm.is_staff = True
    rm.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "rm", "password": "wrong"})
    resp = client.post("/admin/login/?next=/admin/", {"username": "rm", "password": PASSWORD})
    assert resp.status_code == 429 and not logged_in(client)
