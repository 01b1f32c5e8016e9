import pytest
from dobj import ExecutionError

pytestmark = pytest.mark.dobj("../chat-room.js")


def test_posts_come_back_in_order_and_history_pages_from_a_message_number(dobj):
    room = dobj.get("CHAT_ROOM", "lobby")
    for i in range(3):
        room.post("ann", f"hello {i}")
    assert [m["text"] for m in room.history()] == ["hello 0", "hello 1", "hello 2"]
    assert [m["text"] for m in room.history(2)] == ["hello 2"]


def test_an_empty_post_is_refused_and_writes_nothing(dobj):
    room = dobj.get("CHAT_ROOM", "lobby")
    with pytest.raises(ExecutionError, match="two non-empty strings"):
        room.post("ann", "")
    assert dict(room.storage) == {}
