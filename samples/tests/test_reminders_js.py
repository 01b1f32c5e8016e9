import pytest

pytestmark = pytest.mark.dobj("../reminders-js")


def test_a_reminder_reaches_the_inbox_only_when_its_alarm_fires(dobj):
    dobj.get("REMINDERS", "ann").remind("ann", "stretch", 30)
    dobj.get("REMINDERS", "ann").remind("ann", "drink", 60)
    dobj.clock.advance("30s")
    assert [m["text"] for m in dobj.get("INBOX", "ann").read()] == ["stretch"]
    dobj.clock.advance("30s")
    assert [m["text"] for m in dobj.get("INBOX", "ann").read()] == ["stretch", "drink"]


def test_the_worker_routes_reminders_to_the_users_objects(dobj):
    assert dobj.fetch("/remind/bob?in=5", method="POST", body="call home").status == 200
    dobj.clock.advance("5s")
    assert [m["text"] for m in dobj.fetch("/inbox/bob").json()] == ["call home"]
