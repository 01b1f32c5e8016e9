"""Random storage programs against a plain Python model, in memory and on SQLite files.

Keys mix unicode, SQL wildcards (``%``, ``_``), backslashes, control characters (NUL
included) and lengths around the 2048-byte limit; values go up to and over 2 MiB.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dobj
from conftest import SCALE
from dobj.runtime.limits import MAX_KEY_BYTES, MAX_VALUE_BYTES

BUNDLE = """
class Model {
  constructor(state) { this.s = state.storage; }
  apply(ops) {
    const out = [];
    for (const [op, key, value] of ops) {
      try {
        if (op === "put") { this.s.put(key, value); out.push("ok"); }
        else if (op === "big") { this.s.put(key, "v".repeat(value)); out.push("ok"); }
        else if (op === "get") out.push(this.s.get(key) ?? null);
        else if (op === "delete") out.push(this.s.delete(key));
        else if (op === "list") out.push(Object.keys(this.s.list({ prefix: key })).length);
        else if (op === "deleteAll") { this.s.deleteAll(); out.push("ok"); }
        else if (op === "txnFail") {
          try {
            this.s.transaction(() => { this.s.put(key, value); this.s.deleteAll(); throw new Error("x"); });
          } catch (e) { out.push("rolled back"); }
        } else if (op === "txn") {
          this.s.transaction(() => { this.s.put(key, value); this.s.put(key + "!", value); });
          out.push("ok");
        }
      } catch (e) { out.push("error:" + e.code); }
    }
    return out;
  }
  dump() { return this.s.list(); }
}
exports.objects = { Model };
"""

# Characters a key may hold: letters, wildcards, escapes, unicode, control characters.
ALPHABET = st.sampled_from(list("ab%_\\/.:é中😀") + ["\x00", "\x01", "\t", "\n", "\x1f", "\x7f"])
short_keys = st.text(ALPHABET, min_size=0, max_size=6)
long_keys = st.sampled_from(["k" * MAX_KEY_BYTES, "é" * (MAX_KEY_BYTES // 2), "k" * (MAX_KEY_BYTES + 1),
                             "é" * (MAX_KEY_BYTES // 2 + 1)])
keys = st.one_of(short_keys, short_keys, short_keys, long_keys)
values = st.one_of(
    st.integers(-(2**53), 2**53), st.floats(min_value=-(2.0**53), max_value=2.0**53, width=32),
    st.text(ALPHABET, max_size=8), st.booleans(), st.none(),
    st.lists(st.integers(0, 9), max_size=3), st.dictionaries(short_keys, st.integers(0, 9), max_size=2),
)
big_sizes = st.sampled_from([MAX_VALUE_BYTES - 2, MAX_VALUE_BYTES - 1, 3 * 1024 * 1024])
ops = st.lists(st.one_of(
    st.tuples(st.just("put"), keys, values),
    st.tuples(st.just("get"), keys, st.none()),
    st.tuples(st.just("delete"), keys, st.none()),
    st.tuples(st.just("list"), short_keys, st.none()),
    st.tuples(st.just("deleteAll"), st.none(), st.none()),
    st.tuples(st.just("txnFail"), short_keys, values),
    st.tuples(st.just("txn"), short_keys, values),
), max_size=20)
big_op = st.tuples(st.just("big"), keys, big_sizes)


@st.composite
def programs(draw, max_big: int = 1):
    """A batch of operations with at most ``max_big`` values near or over the 2 MiB limit
    (a few large values per run, not hundreds: each crosses the engine and SQLite whole)."""
    batch = draw(ops)
    for op in draw(st.lists(big_op, max_size=max_big)):
        batch.insert(draw(st.integers(0, len(batch))), op)
    return batch


def key_ok(key: str) -> bool:
    return len(key.encode("utf-8")) <= MAX_KEY_BYTES


def model_apply(model: dict, batch) -> list:
    out = []
    for op, key, value in batch:
        if op in ("put", "get", "delete", "big") and not key_ok(key):
            out.append("error:bad_request")
        elif op == "put":
            model[key] = value
            out.append("ok")
        elif op == "big":
            if value + 2 > MAX_VALUE_BYTES:
                out.append("error:payload_too_large")
            else:
                model[key] = "v" * value
                out.append("ok")
        elif op == "get":
            out.append(model.get(key))
        elif op == "delete":
            out.append(key in model)
            model.pop(key, None)
        elif op == "list":
            out.append(sum(1 for k in model if k.startswith(key)))
        elif op == "deleteAll":
            model.clear()
            out.append("ok")
        elif op == "txnFail":
            out.append("rolled back")
        elif op == "txn":
            model[key] = value
            model[key + "!"] = value
            out.append("ok")
    return out


def normalise(value):
    """JSON round trip, as storage does (floats that are integral come back as ints)."""
    return json.loads(json.dumps(value))


def check(rt, model, batch):
    obj = rt.get("MODEL", "m")
    expected = normalise(model_apply(model, batch))
    got = obj.apply([list(op) for op in batch])
    assert got == expected
    dumped = obj.dump()
    assert dumped == normalise(model)
    assert list(dumped) == sorted(model, key=lambda k: k.encode("utf-8")) or any(
        k.isdigit() for k in model)  # integer-like keys come first in a JavaScript object


SETTINGS = settings(max_examples=40 * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(batches=st.tuples(programs(), st.lists(ops, max_size=2)).map(lambda t: [t[0], *t[1]]))
def test_file_store_matches_the_model_across_reopen(bundle, tmp_path_factory, batches):
    path = bundle(BUNDLE, "model.js")
    data = tmp_path_factory.mktemp("data")
    model: dict = {}
    for batch in batches:
        with dobj.Runtime.load(path, data=data) as rt:
            check(rt, model, batch)


@SETTINGS
@given(batch=programs())
def test_memory_store_matches_the_model(bundle, batch):
    with dobj.Runtime.load(bundle(BUNDLE, "model.js")) as rt:
        check(rt, {}, batch)


def test_the_programs_include_values_at_and_over_the_size_limit():
    seen = set()

    @settings(max_examples=200, database=None)
    @given(programs())
    def collect(batch):
        seen.update(value for op, _, value in batch if op == "big")

    collect()
    assert seen == {MAX_VALUE_BYTES - 2, MAX_VALUE_BYTES - 1, 3 * 1024 * 1024}


@pytest.mark.parametrize("size, outcome", [
    (MAX_VALUE_BYTES - 2, "ok"),                       # exactly 2 MiB of JSON with its quotes
    (MAX_VALUE_BYTES - 1, "error:payload_too_large"),
])
def test_value_size_limit_is_exact(bundle, size, outcome):
    with dobj.Runtime.load(bundle(BUNDLE, "model.js")) as rt:
        assert rt.get("MODEL", "m").apply([["big", "k", size]]) == [outcome]


def test_keys_with_nul_and_marker_characters_are_kept_whole(bundle):
    with dobj.Runtime.load(bundle(BUNDLE, "model.js")) as rt:
        m = rt.get("MODEL", "m")
        weird = ["a\x00b", "a", "\x01x", "\x01", "\x00"]
        m.apply([["put", k, i] for i, k in enumerate(weird)])
        assert m.dump() == {k: i for i, k in enumerate(weird)}
        assert m.apply([["get", "a\x00b", None], ["delete", "\x01x", None]]) == [0, True]
