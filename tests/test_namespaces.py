import json

import pytest

import dobj
from dobj.runtime import namespace_for

TABLE = {
    "Counter": "COUNTER",
    "ChatRoom": "CHAT_ROOM",
    "URLParser": "URL_PARSER",
    "COUNTER": "COUNTER",
    "Chat_Room": "CHAT_ROOM",
    "chat-room": "CHAT_ROOM",
    "Counter2DView": "COUNTER2_D_VIEW",
    "HTTPServer": "HTTP_SERVER",
    "IOStream": "IO_STREAM",
    "V2Beta": "V2_BETA",
}


@pytest.mark.parametrize("export, namespace", TABLE.items())
def test_namespace_is_derived_from_export_name(export, namespace):
    assert namespace_for(export) == namespace


def test_bundle_exports_get_derived_namespaces(load):
    rt = load(
        """
        class ChatRoom { hi() { return "room"; } }
        class URLParser { hi() { return "url"; } }
        exports.objects = { ChatRoom, URLParser, "chat-lobby": class { hi() { return "lobby"; } } };
        """
    )
    assert set(rt.namespaces) == {"CHAT_ROOM", "URL_PARSER", "CHAT_LOBBY"}
    assert rt.get("CHAT_ROOM", "a").hi() == "room"
    assert rt.get("CHAT_LOBBY", "a").hi() == "lobby"


def test_two_exports_on_one_namespace_fail_naming_both(bundle):
    path = bundle("class A {}\nexports.objects = { ChatRoom: A, Chat_Room: A };")
    with pytest.raises(dobj.BundleError) as info:
        dobj.Runtime.load(path)
    assert "ChatRoom" in info.value.message and "Chat_Room" in info.value.message
    assert "CHAT_ROOM" in info.value.message


def test_namespace_lookup_is_case_sensitive_and_suggests(load):
    rt = load("class Counter { n() { return 1; } }\nexports.objects = { Counter };")
    with pytest.raises(dobj.UnknownNamespace) as info:
        rt.get("counter", "a")
    assert info.value.http_status == 404
    assert "did you mean 'COUNTER'" in info.value.message


@pytest.mark.parametrize("suffix, text", [
    (".json", json.dumps({"objects": {"TALLY": "Counter"}})),
    (".toml", '[objects]\nTALLY = "Counter"\n'),
])
def test_manifest_replaces_derived_namespaces(bundle, tmp_path, suffix, text):
    path = bundle("class Counter { n() { return 7; } }\nexports.objects = { Counter };")
    manifest = tmp_path / f"manifest{suffix}"
    manifest.write_text(text)
    with dobj.Runtime.load(path, manifest=manifest) as rt:
        assert list(rt.namespaces) == ["TALLY"]
        assert rt.get("TALLY", "x").n() == 7
        with pytest.raises(dobj.UnknownNamespace):
            rt.get("COUNTER", "x")


def test_manifest_naming_a_missing_class_fails(bundle, tmp_path):
    path = bundle("class Counter {}\nexports.objects = { Counter };")
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"objects": {"TALLY": "Countr"}}))
    with pytest.raises(dobj.BundleError, match="Countr"):
        dobj.Runtime.load(path, manifest=manifest)
