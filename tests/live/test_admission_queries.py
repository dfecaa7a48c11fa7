"""A thousand viewers reconnecting at once are let in by a few queries, not a few per
viewer: their tokens are looked up together and their standings read together, with
the same answers as one at a time."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.factories import team_release
from warroom import policies
from warroom.auth import user_for_token, users_for_token_digests
from warroom.models import ApiToken

pytestmark = pytest.mark.django_db


def test_tokens_of_a_whole_team_are_looked_up_in_one_query_and_their_use_recorded_once(
    django_assert_num_queries,
):
    team = team_release()
    tokens = {name: team.token(name) for name in team.users}
    digests = [ApiToken.digest_of(t) for t in tokens.values()] + [ApiToken.digest_of("nope")]
    with django_assert_num_queries(2):  # the tokens with their users; last use recorded
        found = users_for_token_digests(digests)
    assert {found[ApiToken.digest_of(t)].username for t in tokens.values()} == set(tokens)
    assert ApiToken.digest_of("nope") not in found
    assert ApiToken.objects.filter(last_used_at=None).count() == 0
    # Used a moment ago: no write this time.
    with django_assert_num_queries(1):
        assert users_for_token_digests(digests[:3]).keys() == set(digests[:3])


def test_a_deactivated_login_s_token_lets_nobody_in():
    team = team_release()
    token = team.token("qa")
    get_user_model().objects.filter(pk=team["qa"].pk).update(is_active=False)
    assert user_for_token(token) is None
    assert users_for_token_digests([ApiToken.digest_of(token)]) == {}


def test_the_standings_of_many_viewers_cost_the_same_queries_as_of_two(
    django_assert_num_queries,
):
    team = team_release()
    User = get_user_model()
    outsider = User.objects.create_user("not-on-this-release", password="x")
    fresh = list(User.objects.filter(pk__in=[u.pk for u in team.users.values()]))
    with django_assert_num_queries(2):  # every role of every viewer; their persons
        two = policies.standings(fresh[:2], team.release)
    fresh = [*User.objects.filter(pk__in=[u.pk for u in team.users.values()]), outsider]
    with django_assert_num_queries(2):
        many = policies.standings(fresh, team.release)
    assert len(two) == 2 and len(many) == len(team.users) + 1
    # The same standing as asking one at a time.
    for user in fresh:
        one = policies.standing(User.objects.select_related("person").get(pk=user.pk), team.release)
        got = many[user]
        assert got.user is user
        assert (got.primary_role_ids, got.backup_role_ids) == (
            one.primary_role_ids,
            one.backup_role_ids,
        )
        assert (got.manager_role_ids, got.stakeholder_role_ids, got.deciding_role_ids) == (
            one.manager_role_ids,
            one.stakeholder_role_ids,
            one.deciding_role_ids,
        )
        assert got.is_creator == one.is_creator
        assert got.person == one.person
        assert bool(policies.check(got, policies.Action.VIEW)) == bool(
            policies.check(one, policies.Action.VIEW)
        )
    assert not policies.check(many[outsider], policies.Action.VIEW)


def test_viewers_whose_person_came_with_their_login_need_one_query(django_assert_num_queries):
    team = team_release()
    users = list(
        get_user_model()
        .objects.select_related("person")
        .filter(pk__in=[u.pk for u in team.users.values()])
    )
    with django_assert_num_queries(1):
        found = policies.standings(users, team.release)
    assert all(found[u].person == getattr(u, "person", None) for u in users)
