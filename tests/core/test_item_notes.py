"""Notes on items append, each with who and when; a block reason stays until unblocked."""

import pytest

from checklists import services
from checklists.models import ChecklistItem, ItemNote
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db

REASON = "Canary creds expired — rotating them now"


def test_a_later_note_on_a_blocked_item_appends_and_the_block_reason_stays(team):
    item = team.item("DBA")
    services.item_set_status(item=item, status="blocked", note=REASON, user=team["dba"])

    item = services.item_set_status(
        item=item, status="blocked", note="Jonas says 10 min", user=team["rm"]
    )

    assert item.status == "blocked" and item.note == REASON
    notes = list(ItemNote.objects.filter(item=item).order_by("at", "id"))
    assert [(n.text, n.author_label, n.changed) for n in notes] == [
        (REASON, "Dana Admin", True),
        ("Jonas says 10 min", "Rita Manager", False),
    ]
    assert all(n.at is not None for n in notes)
    # The item still reads as blocked by the DBA: a note is not a status change.
    assert item.changed_by_label == "Dana Admin"
    last = AuditEvent.objects.filter(release=team.release, kind="item.status").last()
    assert last.data["note"] == "Jonas says 10 min" and last.data["reason"] == REASON
    assert last.data["note_id"] == notes[1].pk
    assert last.data["from"] == last.data["status"] == "blocked"


def test_unblocking_clears_the_reason_and_keeps_the_history(team):
    item = team.item("DBA")
    services.item_set_status(item=item, status="blocked", note=REASON, user=team["dba"])
    item = services.item_set_status(item=item, status="done", user=team["dba"])
    assert item.status == "done" and item.note == ""
    assert ItemNote.objects.filter(item=item).count() == 1


def test_the_same_note_sent_twice_is_kept_once(team):
    item = team.item("DBA")
    for _ in range(2):
        services.item_set_status(item=item, status="todo", note="On it", user=team["dba"])
    assert ItemNote.objects.filter(item=item).count() == 1
    assert AuditEvent.objects.filter(release=team.release, kind="item.status").count() == 1


def test_a_note_reads_as_a_note_on_the_timeline(team):
    from warroom import events

    item = team.item("DBA")
    services.item_set_status(item=item, status="todo", note="Starting at T-20", user=team["dba"])
    event = AuditEvent.objects.filter(release=team.release, kind="item.status").get()
    assert events.describe(event) == (
        "Dana Admin added a note to “Verify backup 1” — Starting at T-20"
    )


def test_notes_are_shown_with_their_item_in_constant_queries(team, django_assert_num_queries):
    from checklists import selectors

    item = team.item("DBA")
    services.item_set_status(item=item, status="blocked", note=REASON, user=team["dba"])
    services.item_set_status(item=item, status="blocked", note="Jonas says 10 min", user=team["rm"])
    with django_assert_num_queries(4):
        rows = selectors.checklists_with_items(team.release)
        shown = {i.pk: i for row in rows for i in row.items}
        row = shown[item.pk]
        assert row.block_note.text == REASON
        assert [n.text for n in row.history_notes] == ["Jonas says 10 min"]
        keys = {i.render_key for i in shown.values()}
    assert len(keys) == len(shown)
    assert ChecklistItem.objects.get(pk=item.pk).note == REASON
