"""Who may do what, in one place.

One table: actions x relations a person can have to a release. Every view, API
endpoint, websocket and (later) Slack handler asks :func:`check` or
:func:`require`. A Django superuser may do everything.

Object scope narrows a relation to the thing acted on:
- ``tick``: role holders and backups may change the items their role owns; any
  team member may change an item nobody owns; the release manager changes all.
- ``sign_off``: only for the role you hold (a backup signs "on behalf of").
- ``decide``: the gate's decision roles (primary or backup); a gate without
  decision roles is decided by the release manager.
- ``execute_step``: the step's owner role (holders and backups) and the release
  manager; a step nobody owns is the release manager's alone.

"Role holder" and "backup" are always relations to a particular role (of an
item, a sign-off or a step), never to the release as a whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef

from warroom import clock, events
from warroom.errors import Refused
from warroom.people.models import Assignment, Person, Role
from warroom.validation import fingerprint, text_problem


class Action(StrEnum):
    VIEW = "view"
    TICK = "tick"
    NUDGE = "nudge"
    SIGN_OFF = "sign_off"
    DECIDE = "decide"
    EXECUTE_STEP = "execute_step"
    STEER_STEPS = "steer_steps"
    RAISE_ROLLBACK = "raise_rollback"
    ROLL_BACK = "roll_back"
    EDIT_PLAN = "edit_plan"
    REPORT_ISSUE = "report_issue"
    MANAGE_PEOPLE = "manage_people"
    CREATE_RELEASE = "create_release"
    ADMIN = "admin"


class Relation(StrEnum):
    RELEASE_MANAGER = "release_manager"
    DECISION_AUTHORITY = "decision_authority"
    ROLE_HOLDER = "role_holder"
    BACKUP = "backup"
    TEAM_MEMBER = "team_member"
    STAKEHOLDER = "stakeholder"
    BOARD_LINK = "board_link"
    ACCOUNT = "account"  # logged in: a relation to the system, not to a release


logger = logging.getLogger(__name__)
R = Relation
TABLE: dict[Action, frozenset[Relation]] = {
    Action.VIEW: frozenset(
        {R.RELEASE_MANAGER, R.DECISION_AUTHORITY, R.TEAM_MEMBER, R.STAKEHOLDER, R.BOARD_LINK}
    ),
    Action.TICK: frozenset({R.RELEASE_MANAGER, R.ROLE_HOLDER, R.BACKUP, R.TEAM_MEMBER}),
    # Nudging the people on duty for a late item: anyone working the night.
    Action.NUDGE: frozenset({R.RELEASE_MANAGER, R.DECISION_AUTHORITY, R.TEAM_MEMBER}),
    Action.SIGN_OFF: frozenset({R.ROLE_HOLDER, R.BACKUP}),
    Action.DECIDE: frozenset({R.DECISION_AUTHORITY}),
    Action.EXECUTE_STEP: frozenset({R.RELEASE_MANAGER, R.ROLE_HOLDER, R.BACKUP}),
    # Pausing, resuming and aborting the engine's run of a release: whoever may call a
    # rollback may also stop the steps.
    Action.STEER_STEPS: frozenset({R.RELEASE_MANAGER, R.DECISION_AUTHORITY}),
    Action.RAISE_ROLLBACK: frozenset({R.RELEASE_MANAGER, R.DECISION_AUTHORITY, R.TEAM_MEMBER}),
    Action.ROLL_BACK: frozenset({R.RELEASE_MANAGER, R.DECISION_AUTHORITY}),
    Action.EDIT_PLAN: frozenset({R.RELEASE_MANAGER}),
    # Reporting, acknowledging and resolving a war-room issue: anyone working the night.
    Action.REPORT_ISSUE: frozenset({R.RELEASE_MANAGER, R.DECISION_AUTHORITY, R.TEAM_MEMBER}),
    Action.MANAGE_PEOPLE: frozenset({R.RELEASE_MANAGER}),
    # Importing a runbook or reusing one as a template makes a new release, managed by
    # whoever made it (reusing also needs EDIT_PLAN on the release reused).
    Action.CREATE_RELEASE: frozenset({R.ACCOUNT}),
    Action.ADMIN: frozenset(),
}


# Actions whose relation depends on the object acted on (checked by the service).
OBJECT_SCOPED = frozenset({Action.TICK, Action.SIGN_OFF, Action.DECIDE, Action.EXECUTE_STEP})


_UNREAD: Any = object()


@dataclass
class Standing:
    """What one user is on one release: the roles they hold as primary and as backup."""

    user: Any
    # The user's person (for those on the release), read when first asked for: a visit
    # to the board, which only asks whether they may view, never reads it.
    _person: Any = field(default=_UNREAD, repr=False, compare=False)
    primary_role_ids: set[int] = field(default_factory=set)
    backup_role_ids: set[int] = field(default_factory=set)
    manager_role_ids: set[int] = field(default_factory=set)
    stakeholder_role_ids: set[int] = field(default_factory=set)
    deciding_role_ids: set[int] = field(default_factory=set)  # own roles some gate decides by
    board_link: bool = False
    is_creator: bool = False

    @property
    def person(self) -> Person | None:
        if self._person is _UNREAD:
            on_release = self.user is not None and self.role_ids
            self._person = getattr(self.user, "person", None) if on_release else None
        return self._person

    @property
    def is_superuser(self) -> bool:
        return bool(getattr(self.user, "is_superuser", False))

    @property
    def role_ids(self) -> set[int]:
        return self.primary_role_ids | self.backup_role_ids

    @property
    def is_release_manager(self) -> bool:
        return self.is_creator or bool(self.role_ids & self.manager_role_ids)

    @property
    def is_member(self) -> bool:
        return self.is_creator or bool(self.role_ids - self.stakeholder_role_ids)


def standing(user, release) -> Standing:
    """Load ``user``'s standing on ``release`` (one query; the user's person is read when
    first asked for, unless the caller selected it with the user)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Standing(user=None)
    return _standings([user], release)[user.pk]


def standings(users: list, release) -> dict[Any, Standing]:
    """Each of ``users``' standing on ``release`` (user -> Standing), for many at once:
    one query for all their roles and, for those on the release whose person was not
    read with them, one for those persons. (A thousand viewers reconnecting at once.)"""
    found: dict[Any, Standing] = {}
    signed_in = [u for u in users if u is not None and getattr(u, "is_authenticated", False)]
    by_pk = _standings(signed_in, release) if signed_in else {}
    unread = {
        s.user.pk
        for s in by_pk.values()
        if s.role_ids and not type(s.user).person.is_cached(s.user)
    }
    persons = {p.user_id: p for p in Person.objects.filter(user_id__in=unread)} if unread else {}
    for user in users:
        if user is None or not getattr(user, "is_authenticated", False):
            found[user] = Standing(user=None)
            continue
        s = by_pk[user.pk]
        person = None
        if s.role_ids:
            person = persons.get(user.pk) if user.pk in unread else getattr(user, "person", None)
        found[user] = replace(s, user=user, _person=person)
    return found


def _standings(users: list, release) -> dict[int, Standing]:
    """user pk -> Standing without its person, from one query."""
    found = {}
    for user in users:
        s = found[user.pk] = Standing(user=user)
        # Whoever imported the runbook manages the release until they hand it over.
        s.is_creator = release.created_by_id is not None and release.created_by_id == user.pk
    # Whether a gate decides by the role comes along (through the reverse relation: the
    # core knows gates only as what decides them).
    deciding = Role.objects.filter(pk=OuterRef("role_id"), gates_deciding__isnull=False)
    people = Assignment.objects.filter(role__release=release)
    if len(found) == 1:
        people = people.filter(person__user=next(iter(found)))
    else:
        people = people.filter(person__user__in=list(found))
    rows = (
        people.order_by()
        .annotate(deciding=Exists(deciding))
        .values_list(
            "person__user_id", "role_id", "kind", "role__is_release_manager", "role__kind",
            "deciding",
        )
    )  # fmt: skip
    for user_id, role_id, kind, is_manager, role_kind, is_deciding in rows:
        s = found[user_id]
        (s.primary_role_ids if kind == "primary" else s.backup_role_ids).add(role_id)
        if is_manager:
            s.manager_role_ids.add(role_id)
        if role_kind == "stakeholder":
            s.stakeholder_role_ids.add(role_id)
        if is_deciding:
            s.deciding_role_ids.add(role_id)
    return found


def board_standing() -> Standing:
    return Standing(user=None, board_link=True)


def _release_wide(s: Standing) -> set[Relation]:
    found: set[Relation] = set()
    if s.is_release_manager:
        found.add(R.RELEASE_MANAGER)
    if s.is_member:
        found.add(R.TEAM_MEMBER)
    elif s.stakeholder_role_ids:
        found.add(R.STAKEHOLDER)
    return found


def _holding(s: Standing, role_id: int) -> set[Relation]:
    """Holder and backup relations to one role."""
    found = set()
    if role_id in s.primary_role_ids:
        found.add(R.ROLE_HOLDER)
    if role_id in s.backup_role_ids:
        found.add(R.BACKUP)
    return found


def _deciding(s: Standing, gate) -> bool:
    if gate is None:
        # Release-wide decisions (a rollback call): any gate's decision authority.
        return bool(s.deciding_role_ids & s.role_ids)
    deciding = {r.pk for r in gate.decision_roles.all()}
    return bool(deciding & s.role_ids) or (not deciding and s.is_release_manager)


def relations(s: Standing, *, item=None, role=None, gate=None) -> set[Relation]:
    """The relations ``s`` has to the release, narrowed to the object acted on."""
    if s.board_link:
        return {R.BOARD_LINK}
    found = _release_wide(s)
    if getattr(s.user, "is_authenticated", False) and s.user.is_active:
        found.add(R.ACCOUNT)
    if item is not None:
        if item.owner_role_id is None:
            # Unowned items belong to the whole team; nobody holds them as role holder.
            return found - {R.STAKEHOLDER}
        return (found - {R.TEAM_MEMBER}) | _holding(s, item.owner_role_id)
    if role is not None:
        # Signing off is for the role itself; a general team membership does not count.
        return (found - {R.TEAM_MEMBER}) | _holding(s, role.pk)
    if _deciding(s, gate):
        found.add(R.DECISION_AUTHORITY)
    return found


@dataclass
class Verdict:
    allowed: bool
    reason: str = ""
    relations: set[Relation] = field(default_factory=set)

    def __bool__(self) -> bool:
        return self.allowed


REFUSALS = {
    Action.VIEW: "you are not on this release",
    Action.TICK: "only the item's owner role, its backups and the release manager may change it",
    Action.NUDGE: "only the team may nudge people on duty",
    Action.SIGN_OFF: "only a holder of this role (or its backup) may sign off for it",
    Action.DECIDE: "only the gate's decision authority may decide",
    Action.EXECUTE_STEP: "only the release manager and role holders may run steps",
    Action.STEER_STEPS: "only the release manager or decision authority may pause, resume"
    " or abort the steps",
    Action.RAISE_ROLLBACK: "only team members may raise a rollback trigger",
    Action.ROLL_BACK: "only the release manager or decision authority may decide a rollback",
    Action.EDIT_PLAN: "only the release manager may edit the plan",
    Action.REPORT_ISSUE: "only the team may report, acknowledge or resolve issues",
    Action.MANAGE_PEOPLE: "only the release manager may manage people",
    Action.CREATE_RELEASE: "log in to create a release",
    Action.ADMIN: "only an administrator may do this",
}


def check(s: Standing, action: Action, *, item=None, role=None, gate=None) -> Verdict:
    """May ``s`` do ``action`` (on ``item`` / for ``role`` / at ``gate``)?"""
    if s.is_superuser:
        return Verdict(True, relations={R.RELEASE_MANAGER})
    rels = relations(s, item=item, role=role, gate=gate)
    if rels & TABLE[action]:
        return Verdict(True, relations=rels)
    if s.user is None and not s.board_link:
        return Verdict(False, "log in first", rels)
    return Verdict(False, REFUSALS[action], rels)


# What a refusal records of the attempt: a few short values naming what was tried;
# anything longer, or not storable as text, is recorded by length and SHA-256 only.
ATTEMPT_VALUE_MAX = 100
ATTEMPT_KEYS_MAX = 8


def attempt_of(target: dict | None) -> dict:
    """``target`` bounded: what was attempted, never the payload that came with it."""
    found: dict[str, Any] = {}
    for key, value in list((target or {}).items())[:ATTEMPT_KEYS_MAX]:
        key = str(key)[:40]
        if isinstance(value, str) and (len(value) > ATTEMPT_VALUE_MAX or text_problem(value)):
            value = fingerprint(value)
        elif not isinstance(value, str | int | float | bool | dict | type(None)):
            value = fingerprint(str(value))
        found[key] = value
    return found


def require(
    s: Standing,
    action: Action,
    release,
    *,
    item=None,
    role=None,
    gate=None,
    target: dict | None = None,
    refused_as: Action | None = None,
    source: str = "",
) -> Verdict:
    """Like :func:`check`, but a refusal is audited (in its own transaction) and raised.

    ``refused_as`` names the action the person attempted when only a precondition is
    checked here (someone outside the release trying to tick is refused as "tick").
    The audit row holds the attempt (:func:`attempt_of`), not what came with it.
    Refusals of people not logged in are counted per ``source`` (the client's address)
    and window, one audit row each (:func:`_tally_anonymous`).
    """
    verdict = check(s, action, item=item, role=role, gate=gate)
    if verdict:
        return verdict
    attempted = refused_as or action
    data = {**attempt_of(target), "action": str(attempted), "reason": verdict.reason}
    if s.user is None and not s.board_link:
        _tally_anonymous(release, data, source or "unknown")
    else:
        events.record(
            release,
            "access.denied",
            actor=s.user,
            actor_label=None if s.user else "board link",
            data=data,
        )
    raise Refused(attempted, verdict.reason)


def _tally_anonymous(release, data: dict, source: str) -> None:
    """Count an anonymous refusal; the first of its source's window is also audited."""
    from warroom.models import RefusalTally

    seconds = max(1, settings.ANONYMOUS_REFUSAL_WINDOW_SECONDS)
    now = clock.now()
    start = datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=UTC)
    key = {"release": release, "source": source[:64], "action": data["action"][:32]}
    window = RefusalTally.objects.filter(**key, window_start=start)
    with transaction.atomic():
        if window.update(count=F("count") + 1, last_at=now):
            return
        # Opening a window: under the release's lock first (the audit row takes it anyway;
        # taken later, the new row's foreign key would deadlock with another source's).
        events.lock_head(release)
        if window.update(count=F("count") + 1, last_at=now):
            return  # opened meanwhile
        try:
            with transaction.atomic():
                RefusalTally.objects.create(**key, window_start=start, last_at=now)
        except IntegrityError:  # opened by a process that does not lock (never, today)
            window.update(count=F("count") + 1, last_at=now)
            return
        events.record(
            release,
            "access.denied",
            actor_label="anonymous",
            data={**data, "source": key["source"], "window": start.isoformat(), "counted": True},
        )


def require_create(user) -> None:
    """May ``user`` create a release (import a runbook, reuse one as a template)?

    ``None`` is the system itself (``manage.py import_runbook``, the demo loader): an
    operator with a shell. A refusal is logged and raised; there is no release yet whose
    audit chain could record it.
    """
    if user is None:
        return
    verdict = check(Standing(user=user), Action.CREATE_RELEASE)
    if not verdict:
        logger.warning("refused %s to %s: %s", Action.CREATE_RELEASE, user, verdict.reason)
        raise Refused(Action.CREATE_RELEASE, verdict.reason)
