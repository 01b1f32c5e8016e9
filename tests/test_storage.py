"""state.storage: the table of SPEC section 3, on memory and on SQLite files."""

import json
import subprocess
import sys

import pytest

import dobj

STORE = """
class Store {
  constructor(state) { this.s = state.storage; }
  get(k) { return this.s.get(k); }
  put(k, v) { this.s.put(k, v); return null; }
  putRaw(k) { this.s.put(k, undefined); }
  putFn(k) { this.s.put(k, () => 1); }
  putNum(k) { this.s.put(k, 1); }
  del(k) { return this.s.delete(k); }
  list(o) { return o === undefined ? this.s.list() : this.s.list(o); }
  keys(o) { return Object.keys(this.s.list(o)); }
  deleteAll() { this.s.deleteAll(); }
  txn(v) { return this.s.transaction((t) => { t.put("a", v); t.put("b", v); return "done"; }); }
  txnThrow() {
    try { this.s.transaction(() => { this.s.put("a", "rolled back"); throw new Error("nope"); }); }
    catch (e) { return e.message; }
  }
  txnAsync() { return this.s.transaction(async () => { this.s.put("a", "async"); }); }
  nested() {
    return this.s.transaction(() => {
      this.s.put("outer", 1);
      try { this.s.transaction(() => { this.s.put("inner", 1); throw new Error("x"); }); } catch (e) {}
      return [this.s.get("outer"), this.s.get("inner")];
    });
  }
  txnLateWrite() { return this.s.transaction(async (t) => { t.put("early", 1); await null; t.put("late", 1); }); }
  txnKeep(how) {
    try {
      this.s.transaction((t) => { this.kept = t; t.put("kept", how); if (how === "throw") throw new Error("x"); });
    } catch (e) {}
  }
  txnReuse(call) {
    const t = this.kept;
    const calls = { get: () => t.get("kept"), put: () => t.put("x", 1), delete: () => t.delete("kept"),
      list: () => t.list(), deleteAll: () => t.deleteAll(), getAlarm: () => t.getAlarm(),
      transaction: () => t.transaction(() => 1) };
    try { calls[call](); return "allowed"; } catch (e) { return [e.code, e.message]; }
  }
  txnHandle() {
    return this.s.transaction((t) => {
      t.put("a", 1);
      const inner = t.transaction((u) => { u.put("b", 2); return u.get("a"); });
      return [t === this.s, inner, t.get("b"), Object.keys(t.list()), t.delete("a")];
    });
  }
  throwAfterWrite() { this.s.put("kept", true); throw new Error("after write"); }
  badKey(k) { return this.s.get(k); }
  alarmNoHandler() { this.s.setAlarm(Date.now() + 1000); }
}
exports.objects = { Store };
"""


@pytest.fixture(params=["memory", "file"])
def rt(request, load, tmp_path):
    data = None if request.param == "memory" else tmp_path / "data"
    return load(STORE, "store.js", data=data)


@pytest.fixture
def s(rt):
    return rt.get("STORE", "s")


def test_get_put_delete(s):
    assert s.get("k") is None
    s.put("k", {"nested": [1, 2.5, "x", None, True]})
    assert s.get("k") == {"nested": [1, 2.5, "x", None, True]}
    assert s.call("del", "k") is True
    assert s.call("del", "k") is False
    assert s.get("k") is None


def test_large_integers_survive_storage(s):
    s.put("big", 2**40)
    assert s.get("big") == 2**40


def test_list_is_sorted_and_prefix_is_literal_and_case_sensitive(s):
    for key in ["a%b", "axb", "a_b", "aXb", "A%b", "b", "a\\b", "a%"]:
        s.put(key, key)
    assert s.keys({"prefix": "a%"}) == ["a%", "a%b"]
    assert s.keys({"prefix": "a_"}) == ["a_b"]
    assert s.keys({"prefix": "a\\"}) == ["a\\b"]
    assert s.keys({"prefix": "A"}) == ["A%b"]
    assert s.keys({}) == sorted(["a%b", "axb", "a_b", "aXb", "A%b", "b", "a\\b", "a%"])
    assert list(s.list()) == s.keys({})


def test_list_options_start_end_reverse_limit(s):
    for i in range(10):
        s.put(f"k{i}", i)
    assert s.keys({"start": "k3", "end": "k6"}) == ["k3", "k4", "k5"]
    assert s.keys({"reverse": True, "limit": 3}) == ["k9", "k8", "k7"]
    assert s.keys({"prefix": "k", "limit": 2}) == ["k0", "k1"]
    assert s.list({"start": "k8"}) == {"k8": 8, "k9": 9}


def test_list_with_bad_options_is_a_bad_request(s):
    with pytest.raises(dobj.BadRequest, match="limit"):
        s.list({"limit": -1})
    with pytest.raises(dobj.BadRequest, match="prefix"):
        s.list({"prefix": 5})


def test_transaction_commits_together_and_returns_its_value(s):
    assert s.txn(5) == "done"
    assert (s.get("a"), s.get("b")) == (5, 5)


def test_transaction_throw_rolls_back_and_rethrows(s):
    assert s.txnThrow() == "nope"
    assert s.get("a") is None


def test_async_transaction_callback_is_rolled_back_and_refused(s):
    with pytest.raises(dobj.BadRequest, match="transaction callback must be synchronous"):
        s.txnAsync()
    assert s.get("a") is None


def test_async_transaction_callback_cannot_write_after_its_await(s):
    with pytest.raises(dobj.BadRequest, match="transaction callback must be synchronous"):
        s.txnLateWrite()
    assert (s.get("early"), s.get("late")) == (None, None)
    s.put("after", 1)  # the object's own storage still works
    assert s.list() == {"after": 1}


def test_transaction_callback_gets_its_own_handle_that_works_inside(s):
    assert s.txnHandle() == [False, 1, 2, ["a", "b"], True]
    assert s.list() == {"b": 2}


@pytest.mark.parametrize("how, ended", [("commit", "committed"), ("throw", "rolled back")])
@pytest.mark.parametrize("call", ["get", "put", "delete", "list", "deleteAll", "getAlarm", "transaction"])
def test_transaction_handle_refuses_every_call_once_its_transaction_ended(s, how, ended, call):
    s.txnKeep(how)
    code, message = s.txnReuse(call)
    assert code == "bad_request" and ended in message and "state.storage" in message
    assert s.list() == ({"kept": "commit"} if how == "commit" else {})


def test_nested_transaction_rolls_back_only_the_inner_one(s):
    assert s.nested() == [1, None]


def test_a_throw_does_not_roll_back_writes(s):
    with pytest.raises(dobj.ExecutionError):
        s.throwAfterWrite()
    assert s.get("kept") is True


def test_delete_all_removes_keys_and_alarm(load):
    rt = load(
        """
        class A {
          constructor(state) { this.s = state.storage; }
          fill() { this.s.put("a", 1); this.s.put("b", 2); this.s.setAlarm(Date.now() + 5000); }
          wipe() { this.s.deleteAll(); return [this.s.list(), this.s.getAlarm()]; }
          alarm() {}
        }
        exports.objects = { A };
        """
    )
    a = rt.get("A", "x")
    a.fill()
    assert len(rt.alarms()) == 1
    assert a.wipe() == [{}, None]
    assert rt.alarms() == []


@pytest.mark.parametrize("key", [5, None, ["a"], {"k": 1}])
def test_non_string_keys_are_bad_requests(s, key):
    with pytest.raises(dobj.BadRequest, match="keys must be strings"):
        s.badKey(key)


@pytest.mark.parametrize("call", [
    lambda s: s.put("\ud800", 1),
    lambda s: s.put("a\udc00b", 1),
    lambda s: s.get("\ud800"),
    lambda s: s.call("del", "\ud800"),
    lambda s: s.list({"prefix": "\ud800"}),
    lambda s: s.list({"start": "a", "end": "\udfff"}),
], ids=["put", "put-low-surrogate", "get", "delete", "list-prefix", "list-end"])
def test_key_with_a_lone_surrogate_from_javascript_is_a_bad_request(s, call):
    with pytest.raises(dobj.BadRequest, match="lone surrogate"):
        call(s)
    assert s.list() == {}


def test_key_with_a_surrogate_pair_from_javascript_is_an_ordinary_key(s):
    s.put("smile\U0001F600", 1)
    assert s.list() == {"smile\U0001F600": 1}
    assert s.storage["smile\U0001F600"] == 1


@pytest.mark.parametrize("edit", [
    lambda st: st.__setitem__("\ud800", 1),
    lambda st: st.__getitem__("\ud800"),
    lambda st: st.__delitem__("\ud800"),
    lambda st: st.items(prefix="\ud800"),
], ids=["set", "get", "delete", "items-prefix"])
def test_key_with_a_lone_surrogate_from_python_is_a_bad_request(s, edit):
    with pytest.raises(dobj.BadRequest, match="lone surrogate"):
        edit(s.storage)
    assert dict(s.storage) == {}


def test_key_limit_is_2048_bytes(s):
    s.put("k" * 2048, 1)
    with pytest.raises(dobj.BadRequest, match="2048"):
        s.put("k" * 2049, 1)


def test_value_limit_is_2_mib_and_3_mib_is_refused(s):
    s.put("ok", "x" * (2 * 1024 * 1024 - 2))
    with pytest.raises(dobj.PayloadTooLarge, match="2 MiB"):
        s.put("big", "x" * (3 * 1024 * 1024))
    assert s.get("big") is None
    assert s.get("ok") is not None


def test_non_ascii_value_from_python_is_measured_as_utf8_json(s):
    value = "é" * 1_000_000  # 2 MB of UTF-8 JSON, 6 MB if written with \\u escapes
    s.storage["accent"] = value
    assert s.get("accent") == value
    assert s.storage["accent"] == value


@pytest.mark.parametrize("side", ["javascript", "python"])
def test_value_limit_counts_the_same_bytes_from_javascript_and_python(s, side):
    at_limit = "é" * ((2 * 1024 * 1024 - 2) // 2)  # with its quotes: exactly 2 MiB of UTF-8
    put = s.put if side == "javascript" else s.storage.__setitem__
    put("edge", at_limit)
    assert s.get("edge") == at_limit
    with pytest.raises(dobj.PayloadTooLarge, match="2 MiB"):
        put("over", at_limit + "é")
    assert s.get("over") is None


def test_value_with_a_lone_surrogate_from_python_is_stored_as_javascript_would(s):
    s.storage["odd"] = "a\ud800b"
    assert s.get("odd") == "a\ud800b"
    assert s.storage["odd"] == "a\ud800b"


@pytest.mark.parametrize("method", ["putRaw", "putFn"])
def test_non_serializable_values_are_bad_requests(s, method):
    with pytest.raises(dobj.BadRequest, match="JSON-serializable"):
        s.call(method, "k")
    assert s.get("k") is None


def test_storage_errors_keep_their_code_through_the_handler(s):
    with pytest.raises(dobj.BadRequest) as info:
        s.badKey(5)
    assert info.value.http_status == 400


def test_set_alarm_without_alarm_method_throws(s):
    with pytest.raises(dobj.BadRequest, match="alarm"):
        s.alarmNoHandler()


def test_storage_of_one_object_is_private(rt):
    a, b = rt.get("STORE", "a"), rt.get("STORE", "b")
    a.put("secret", "a's")
    assert b.get("secret") is None
    assert b.list() == {}


def test_storage_of_another_object_cannot_be_used_even_when_shared(load):
    rt = load(
        """
        let leaked = null;
        class A {
          constructor(state) { this.s = state.storage; }
          leak() { leaked = this.s; this.s.put("mine", 1); }
          steal() { return leaked.get("mine"); }
          plant() { leaked.put("planted", 1); }
          get(k) { return this.s.get(k); }
        }
        exports.objects = { A };
        """
    )
    rt.get("A", "owner").leak()
    with pytest.raises(dobj.StorageError, match="only be used by an event of that object"):
        rt.get("A", "thief").steal()
    with pytest.raises(dobj.StorageError):
        rt.get("A", "thief").plant()
    assert rt.get("A", "owner").get("planted") is None


def test_python_storage_mapping_edits_run_as_events(s, rt):
    s.storage["edited"] = {"by": "python"}
    assert s.get("edited") == {"by": "python"}
    assert dict(s.storage) == {"edited": {"by": "python"}}
    del s.storage["edited"]
    assert "edited" not in s.storage
    with pytest.raises(KeyError):
        del s.storage["edited"]
    kinds = [(e.kind, e.method) for e in rt.trace() if e.kind == "storage"]
    assert kinds == [("storage", "put"), ("storage", "delete"), ("storage", "delete")]


def test_file_store_survives_reopen(bundle, tmp_path):
    path = bundle(STORE, "store.js")
    data = tmp_path / "data"
    with dobj.Runtime.load(path, data=data) as rt:
        rt.get("STORE", "s").put("k", [1, 2])
    with dobj.Runtime.load(path, data=data) as rt:
        assert rt.get("STORE", "s").get("k") == [1, 2]
        assert rt.objects() == [("STORE", "s")]
    assert (data / "dobj.sqlite3").exists()


def test_data_folder_is_locked_against_a_second_runtime(bundle, tmp_path):
    path = bundle(STORE, "store.js")
    data = tmp_path / "data"
    with dobj.Runtime.load(path, data=data):
        with pytest.raises(dobj.StorageError, match="in use"):
            dobj.Runtime.load(path, data=data)


def test_data_folder_is_locked_against_a_second_process(bundle, tmp_path):
    path = bundle(STORE, "store.js")
    data = tmp_path / "data"
    code = (
        "import dobj, sys\n"
        "try:\n"
        f"    dobj.Runtime.load({str(path)!r}, data={str(data)!r})\n"
        "except dobj.StorageError as e:\n"
        "    print(e.message); sys.exit(3)\n"
    )
    with dobj.Runtime.load(path, data=data):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert "in use by dobj process" in proc.stdout
    # and once the first is closed, a new process can open it
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_acknowledged_write_is_committed(bundle, tmp_path):
    """After each call returns, a separate SQLite connection sees its write."""
    import sqlite3

    path = bundle(STORE, "store.js")
    data = tmp_path / "data"
    with dobj.Runtime.load(path, data=data) as rt:
        s = rt.get("STORE", "s")
        reader = sqlite3.connect(data / "dobj.sqlite3")
        try:
            for i in range(5):
                s.put("n", i)
                (value,) = reader.execute("SELECT value FROM kv WHERE key='n'").fetchone()
                assert json.loads(value) == i
        finally:
            reader.close()


def test_storage_cannot_be_forged_to_reach_another_object(load):
    rt = load(
        """
        class A {
          constructor(state) { this.s = state.storage; }
          put(k, v) { this.s.put(k, v); }
          forge() {
            const out = [];
            const Storage = this.s.constructor;
            for (const attempt of [
              () => new Storage({}, 1, 0, "A"),
              () => Storage.prototype.get.call({}, "k"),
              () => Reflect.construct(Storage, [undefined, 1, 0, "A"]),
              () => Object.create(Storage.prototype).get("k"),
            ]) {
              try { out.push(JSON.stringify(attempt())); } catch (e) { out.push(e.name); }
            }
            return out;
          }
          read(k) { return this.s.get(k); }
        }
        exports.objects = { A };
        """
    )
    rt.get("A", "victim").put("secret", "x")
    assert rt.get("A", "thief").forge() == ["TypeError"] * 4
    for key in ["secret", "../victim/secret", "victim\x00secret", "%", "\x01\"victim\""]:
        assert rt.get("A", "thief").read(key) is None


def test_keys_and_key_counts_come_from_the_data_folder_without_values(tmp_path):
    from dobj.runtime.storage import Store

    store = Store(tmp_path / "data")
    try:
        a, b = store.object_id("C", "a"), store.object_id("C", "b")
        for key in ("b", "a_1", "a%", "aX", "A"):
            store.put(a, key, '"v"')
        store.put(b, "a_2", "2")
        store.set_alarm(store.object_id("C", "alarm-only"), 1000.0)
        store.commit()
        assert store.keys("C", "a") == ["A", "a%", "aX", "a_1", "b"]
        assert store.keys("C", "a", prefix="a_") == ["a_1"]   # _ and % are literal
        assert store.keys("C", "a", prefix="a%") == ["a%"]
        assert store.keys("C", "a", prefix="a", limit=2) == ["a%", "aX"]
        assert store.keys("C", "never") == [] and store.keys("OTHER", "a") == []
        assert store.key_counts() == {("C", "a"): 5, ("C", "b"): 1}
    finally:
        store.close()
    reopened = Store(tmp_path / "data")
    try:
        assert reopened.key_counts() == {("C", "a"): 5, ("C", "b"): 1}
        assert not reopened.db.execute("SELECT 1 FROM objects WHERE name='never'").fetchone()
    finally:
        reopened.close()
