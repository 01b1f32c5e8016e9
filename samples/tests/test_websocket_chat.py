import json

import pytest

pytestmark = pytest.mark.dobj("../websocket-chat")


def test_a_message_reaches_everyone_in_the_room_and_is_kept(dobj):
    ann = dobj.websocket("/room/lobby/ws?user=ann")
    bob = dobj.websocket("/room/lobby/ws?user=bob")
    ann.receive_all(), bob.receive_all()
    ann.send("hello")
    assert json.loads(bob.receive()) == {"from": "ann", "text": "hello"}
    carol = dobj.websocket("/room/lobby/ws?user=carol")
    assert json.loads(carol.receive())["history"] == [{"user": "ann", "text": "hello"}]


def test_the_room_hibernates_between_messages_and_remembers_who_is_here(dobj):
    ann = dobj.websocket("/room/lobby/ws?user=ann")
    ann.receive_all()
    room = dobj.get("ROOM", "lobby")
    room.evict()
    ann.send("ping")  # answered by the runtime: the room stays asleep
    assert ann.receive() == "pong" and not room.live
    ann.send("/who")
    assert json.loads(ann.receive()) == {"online": ["ann"]} and room.live


def test_the_worker_serves_the_page(dobj):
    page = dobj.fetch("/")
    assert page.status == 200 and "new WebSocket(" in page.text
