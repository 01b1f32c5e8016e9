import pytest

pytestmark = pytest.mark.dobj("../guestbook-ts")


def test_signatures_are_rows_of_the_pages_own_table(dobj):
    book = dobj.get("GUESTBOOK", "home")
    book.sign("ann", "hi")
    book.sign("bob", "hello")
    assert [e["author"] for e in book.entries()] == ["bob", "ann"]
    assert book.sql("SELECT count(*) AS n FROM entries")["rows"] == [[2]]
    assert dobj.get("GUESTBOOK", "other").count() == 0


def test_the_worker_signs_and_lists_a_page(dobj):
    signed = dobj.fetch("/page/home", method="POST", body='{"author": "ann", "text": "hi"}')
    assert signed.status == 201
    listed = dobj.fetch("/page/home").json()
    assert listed["count"] == 1 and listed["entries"][0]["text"] == "hi"
