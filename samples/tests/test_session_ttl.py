import pytest

pytestmark = pytest.mark.dobj("../session-ttl.js")


def test_a_session_expires_thirty_minutes_after_it_was_last_seen(dobj):
    session = dobj.get("SESSION", "s1")
    session.login("ann", {"theme": "dark"})
    dobj.clock.advance("20m")
    assert session.touch()["user"] == "ann"
    dobj.clock.advance("20m")  # 40 minutes after login, 20 after the touch
    assert session.touch() is not None
    dobj.clock.advance("31m")
    assert session.touch() is None


def test_logout_says_whether_there_was_a_session(dobj):
    session = dobj.get("SESSION", "s2")
    assert session.logout() is False
    session.login("bob")
    assert session.logout() is True
