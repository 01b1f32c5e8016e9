"""The samples: each loads in the REPL, its README's transcript still comes out, and what
its README claims holds, checked through the Python API on the manual clock."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import dobj

from docblocks import run_page

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
BUNDLES = sorted(SAMPLES.glob("*.js"))
PROJECTS = sorted(p for p in SAMPLES.iterdir() if p.is_dir() and any(p.glob("wrangler.*")))  # Workers projects
REPL = str(Path(sys.executable).parent / "dobj-repl")


@pytest.fixture
def sample():
    """Load a sample by name on the manual clock (set to a fixed instant); always closed."""
    runtimes = []

    def _load(name: str, **options) -> dobj.Runtime:
        rt = dobj.Runtime.load(SAMPLES / f"{name}.js", **options)
        runtimes.append(rt)
        rt.clock.set("2030-01-01T09:00:00Z")
        return rt

    yield _load
    for rt in runtimes:
        rt.close()


def test_the_samples_are_the_ones_the_docs_promise():
    names = {p.stem for p in BUNDLES}
    assert {"counter", "chat-room", "rate-limiter", "session-ttl", "bank", "coordinator"} <= names


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_every_sample_loads_in_the_repl(bundle):
    proc = subprocess.run([REPL, str(bundle), "-c", "objects"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "namespaces" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_every_sample_has_a_readme_whose_examples_still_run(bundle):
    readme = bundle.with_suffix(".md")
    assert readme.exists(), f"{bundle.name} has no {readme.name}"
    text = readme.read_text(encoding="utf-8")
    assert f"dobj-repl samples/{bundle.name}" in text, "the README shows no REPL transcript"
    assert run_page(readme) >= 1


def test_the_project_samples_are_one_typescript_with_sql_and_one_javascript_with_alarms():
    assert {p.name for p in PROJECTS} >= {"guestbook-ts", "reminders-js"}
    assert (SAMPLES / "guestbook-ts" / "src" / "index.ts").exists()
    assert "sql.exec" in (SAMPLES / "guestbook-ts" / "src" / "index.ts").read_text()
    assert "setAlarm" in (SAMPLES / "reminders-js" / "src" / "index.js").read_text()



def test_every_sample_has_a_test_module_of_its_own():
    samples = {p.stem for p in SAMPLES.glob("*.js")} | {p.name for p in PROJECTS}
    modules = {p.stem.removeprefix("test_") for p in (SAMPLES / "tests").glob("test_*.py")}
    assert {s.replace("-", "_") for s in samples} == modules

@pytest.mark.slow
@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_every_project_sample_has_a_readme_whose_examples_still_run(project):
    readme = project / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert f"dobj-repl samples/{project.name}" in text, "the README shows no REPL transcript"
    assert run_page(readme) >= 1


# -- counter.js ----------------------------------------------------------------------------
def test_counter_increments_never_get_lost_under_concurrent_calls(sample):
    counter = sample("counter").get("COUNTER", "global")

    async def many():
        return await asyncio.gather(*[counter.acall("increment") for _ in range(50)])

    assert sorted(asyncio.run(many())) == list(range(1, 51))
    assert counter.fetch("/count").text == "50"
    assert counter.fetch("/nope").status == 404 and counter.fetch("/nope").text == "not found"


def test_counter_names_are_separate_counters(sample):
    rt = sample("counter")
    rt.get("COUNTER", "global").increment(3)
    assert rt.get("COUNTER", "alice").increment(10) == 10
    assert dict(rt.get("COUNTER", "global").storage) == {"count": 3}


ARMS_THE_COUNTER = """
class Counter {
  constructor(state) { this.state = state; }
  arm(ms) { this.state.storage.setAlarm(Date.now() + ms); }
  alarm() {}
}
exports.objects = { Counter };
"""


def test_counter_alarm_counts_every_delivery_in_alarm_count(tmp_path):
    """The sample has no method that sets its alarm: a bundle that does sets it, and a
    reload (which keeps alarms) puts the sample's own alarm() in place to receive it."""
    path = tmp_path / "counter.js"

    def arm_then_reload_the_sample(rt, ms):
        path.write_text(ARMS_THE_COUNTER, encoding="utf-8")
        rt.reload()
        rt.get("COUNTER", "global").arm(ms)
        path.write_text((SAMPLES / "counter.js").read_text(encoding="utf-8"), encoding="utf-8")
        rt.reload()

    path.write_text((SAMPLES / "counter.js").read_text(encoding="utf-8"), encoding="utf-8")
    with dobj.Runtime.load(path) as rt:
        counter = rt.get("COUNTER", "global")
        counter.increment(3)
        arm_then_reload_the_sample(rt, 5000)
        assert rt.clock.advance("4s") == []
        [event] = rt.clock.advance("1s")
        assert (event.kind, event.object, event.error) == ("alarm", "COUNTER/global", None)
        assert dict(counter.storage) == {"count": 3, "alarmCount": 1}
        assert counter.alarm is None and rt.clock.advance("1h") == []
        arm_then_reload_the_sample(rt, 1000)
        assert [e.kind for e in rt.clock.advance("1s")] == ["alarm"]
        assert dict(counter.storage) == {"count": 3, "alarmCount": 2}


# -- chat-room.js --------------------------------------------------------------------------
def test_chat_room_post_then_get_since_returns_only_newer_messages(sample):
    room = sample("chat-room").get("CHAT_ROOM", "lobby")
    first = room.fetch("/messages", method="POST", body=json.dumps({"user": "ann", "text": "hi"}))
    assert first.status == 201
    assert first.json() == {"seq": 1, "user": "ann", "text": "hi", "at": "2030-01-01T09:00:00.000Z"}
    room.post("bob", "hello")
    room.post("cy", "hey")
    reply = room.fetch("/messages?since=1")
    assert reply.status == 200
    assert [m["text"] for m in reply.json()["messages"]] == ["hello", "hey"]
    assert room.fetch("/messages?since=3").json() == {"messages": []}
    assert [m["seq"] for m in room.fetch("/messages").json()["messages"]] == [1, 2, 3]


def test_chat_room_history_is_read_by_prefix_in_posting_order_one_page_at_a_time(sample):
    room = sample("chat-room").get("CHAT_ROOM", "lobby")
    for i in range(120):
        room.post("ann", f"message {i}")
    page = room.history(0)
    assert len(page) == 50 and page[0]["seq"] == 1 and page[-1]["seq"] == 50
    assert [m["seq"] for m in room.history(100)] == list(range(101, 121))
    keys = list(room.storage)
    assert keys[-1] == "seq" and keys[:2] == ["msg:000000000001", "msg:000000000002"]


def test_chat_room_answers_400_405_and_404_for_bad_requests(sample):
    room = sample("chat-room").get("CHAT_ROOM", "lobby")
    assert room.fetch("/messages", method="POST", body="not json").status == 400
    missing = room.fetch("/messages", method="POST", body='{"user": "bob"}')
    assert missing.status == 400 and "non-empty strings" in missing.json()["error"]
    assert room.fetch("/messages?since=-1").status == 400
    assert room.fetch("/messages", method="DELETE").status == 405
    assert room.fetch("/elsewhere").status == 404
    assert dict(room.storage) == {}


def test_chat_room_sequence_numbers_never_repeat_under_concurrent_posts(sample):
    room = sample("chat-room").get("CHAT_ROOM", "lobby")

    async def many():
        return await asyncio.gather(*[
            room.afetch("/messages", method="POST", body=json.dumps({"user": "u", "text": str(i)}))
            for i in range(40)
        ])

    replies = asyncio.run(many())
    assert sorted(r.json()["seq"] for r in replies) == list(range(1, 41))
    assert len(room.storage.items(prefix="msg:")) == 40


def test_chat_rooms_keep_separate_histories(sample):
    rt = sample("chat-room")
    rt.get("CHAT_ROOM", "lobby").post("ann", "in the lobby")
    assert rt.get("CHAT_ROOM", "support").history() == []


# -- rate-limiter.js -----------------------------------------------------------------------
def test_rate_limiter_allows_five_then_answers_429_with_retry_after(sample):
    limiter = sample("rate-limiter").get("RATE_LIMITER", "ann")
    assert [limiter.take()["remaining"] for _ in range(5)] == [4, 3, 2, 1, 0]
    assert limiter.take() == {"allowed": False, "remaining": 0, "retryAfterMs": 1000}
    reply = limiter.fetch("/")
    assert reply.status == 429 and reply.headers["retry-after"] == "1"


def test_rate_limiter_alarm_refills_one_token_a_second_then_stops(sample):
    rt = sample("rate-limiter")
    limiter = rt.get("RATE_LIMITER", "ann")
    for _ in range(5):
        limiter.take()
    assert [e.kind for e in rt.clock.advance("1s")] == ["alarm"]
    reply = limiter.fetch("/")
    assert reply.status == 200 and reply.headers["x-ratelimit-remaining"] == "0"
    delivered = rt.clock.advance("1m")
    assert len(delivered) == 5  # one refill per second until the bucket is full, then none
    assert limiter.tokens() == 5
    assert limiter.alarm is None


def test_rate_limiter_full_bucket_keeps_no_alarm(sample):
    limiter = sample("rate-limiter").get("RATE_LIMITER", "idle")
    assert limiter.tokens() == 5 and limiter.alarm is None
    limiter.take()
    assert limiter.alarm is not None


def test_rate_limiter_concurrent_requests_never_spend_the_same_token(sample):
    limiter = sample("rate-limiter").get("RATE_LIMITER", "ann")

    async def burst():
        return await asyncio.gather(*[limiter.afetch("/") for _ in range(20)])

    statuses = [r.status for r in asyncio.run(burst())]
    assert statuses.count(200) == 5 and statuses.count(429) == 15


def test_rate_limiter_clients_have_separate_buckets(sample):
    rt = sample("rate-limiter")
    for _ in range(5):
        rt.get("RATE_LIMITER", "ann").take()
    assert rt.get("RATE_LIMITER", "bob").take()["allowed"] is True


# -- session-ttl.js ------------------------------------------------------------------------
def test_session_expires_after_thirty_idle_minutes_and_leaves_no_storage(sample):
    rt = sample("session-ttl")
    session = rt.get("SESSION", "s1")
    assert session.login("ann", {"theme": "dark"})["expiresAt"] == "2030-01-01T09:30:00.000Z"
    rt.clock.advance("29m59s")
    assert dict(session.storage) != {}
    events = rt.clock.advance("1s")
    assert [e.kind for e in events] == ["alarm"]
    assert dict(session.storage) == {} and session.alarm is None
    assert session.touch() is None


def test_session_alarm_rearms_itself_while_the_session_is_used(sample):
    rt = sample("session-ttl")
    session = rt.get("SESSION", "s1")
    session.login("ann")
    start = rt.clock.now_ms()
    rt.clock.advance("20m")
    assert session.touch()["user"] == "ann"
    rt.clock.advance("10m")  # the first alarm fires and re-arms for 20 minutes later
    assert session.alarm == start + 50 * 60_000
    assert session.touch() is not None
    rt.clock.advance("20m")  # touched at 09:30: re-armed again for 10:00
    assert session.alarm == start + 60 * 60_000
    delivered = rt.clock.advance("30m")
    assert [e.kind for e in delivered] == ["alarm"]
    assert "expired session of ann" in " ".join(str(line) for line in delivered[0].console)
    assert session.touch() is None


def test_session_logout_deletes_state_and_alarm(sample):
    rt = sample("session-ttl")
    session = rt.get("SESSION", "s1")
    session.login("ann")
    assert session.logout() is True
    assert dict(session.storage) == {} and rt.alarms() == []
    assert session.logout() is False


# -- bank.js -------------------------------------------------------------------------------
def test_bank_transfer_moves_money_and_keeps_the_total(sample):
    bank = sample("bank").get("BANK", "main")
    bank.open("ann", 100)
    bank.open("bob", 50)
    assert bank.transfer("ann", "bob", 30) == {"ann": 70, "bob": 80}
    assert bank.audit() == {"sum": 150, "total": 150, "ok": True}


def test_bank_failed_batch_rolls_back_every_transfer_in_it(sample):
    bank = sample("bank").get("BANK", "main")
    bank.open("ann", 100)
    bank.open("bob", 50)
    with pytest.raises(dobj.ExecutionError, match="insufficient funds"):
        bank.transferAll([["bob", "ann", 10], ["ann", "bob", 500]])
    assert bank.balances() == {"ann": 100, "bob": 50}
    for bad in ([["ann", "ann", 1]], [["ann", "bob", 0]], [["ann", "bob", 1.5]], [["ann", "zed", 1]]):
        with pytest.raises(dobj.ExecutionError):
            bank.transferAll(bad)
    assert bank.balances() == {"ann": 100, "bob": 50}


def test_bank_invariant_holds_under_hundreds_of_concurrent_transfers(sample):
    bank = sample("bank").get("BANK", "main")
    accounts = ["ann", "bob", "cy", "dee", "eve"]
    for name in accounts:
        bank.open(name, 1000)
    rng = random.Random(7)
    plan = [(*rng.sample(accounts, 2), rng.randint(1, 600)) for _ in range(300)]

    async def run():
        async def one(src, dst, amount):
            try:
                await bank.acall("transfer", src, dst, amount)
                return True
            except dobj.ExecutionError:
                return False

        async def audit_while_running():
            return [await bank.acall("audit") for _ in range(20)]

        return await asyncio.gather(asyncio.gather(*[one(*t) for t in plan]), audit_while_running())

    outcomes, audits = asyncio.run(run())
    assert all(a["ok"] and a["sum"] == 5000 for a in audits)
    assert True in outcomes and False in outcomes  # some transfers were refused
    balances = bank.balances()
    assert sum(balances.values()) == 5000 and min(balances.values()) >= 0


def test_bank_opening_an_account_twice_is_refused(sample):
    bank = sample("bank").get("BANK", "main")
    bank.open("ann", 100)
    with pytest.raises(dobj.ExecutionError, match="exists"):
        bank.open("ann", 5)
    assert bank.audit() == {"sum": 100, "total": 100, "ok": True}


# -- coordinator.js ------------------------------------------------------------------------
def test_coordinator_forwards_votes_to_stations_and_sums_their_counts(sample):
    rt = sample("coordinator")
    election = rt.get("COORDINATOR", "mayor")
    election.open(["north", "south"])
    for station, candidate in [("north", "ada"), ("north", "alan"), ("south", "ada")]:
        election.vote(station, candidate)
    assert election.results() == {
        "total": {"ada": 2, "alan": 1},
        "byStation": {"north": {"ada": 1, "alan": 1}, "south": {"ada": 1}},
    }
    assert rt.get("STATION", "mayor:north").counts() == {"ada": 1, "alan": 1}
    stub_calls = [e for e in rt.trace() if e.object == "STATION/mayor:south"]
    assert stub_calls and all(e.kind == "rpc" for e in stub_calls)


def test_coordinator_counts_every_concurrent_vote(sample):
    rt = sample("coordinator")
    election = rt.get("COORDINATOR", "city")
    election.open(["a", "b", "c"])

    async def many():
        await asyncio.gather(*[election.acall("vote", "abc"[i % 3], "ada") for i in range(60)])
        return await election.acall("results")

    results = asyncio.run(many())
    assert results["total"] == {"ada": 60}
    assert results["byStation"] == {s: {"ada": 20} for s in "abc"}


def test_coordinator_elections_do_not_share_stations(sample):
    rt = sample("coordinator")
    rt.get("COORDINATOR", "mayor").open(["north"])
    rt.get("COORDINATOR", "council").open(["north"])
    rt.get("COORDINATOR", "mayor").vote("north", "ada")
    assert rt.get("COORDINATOR", "council").results()["total"] == {}
    with pytest.raises(dobj.ExecutionError, match="no station"):
        rt.get("COORDINATOR", "mayor").vote("east", "ada")
