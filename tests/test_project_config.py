"""Workers project configs: wrangler.json / .jsonc / .toml, and telling projects from bundles."""

from __future__ import annotations

import doctest
import importlib
import textwrap
from pathlib import Path

import pytest
from dobj.errors import BundleError
from dobj.runtime.project import Migration, has_module_syntax, is_project, read_project

ROOT = Path(__file__).resolve().parent.parent

JSONC = """\
{
  // the Worker
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "counter-app",
  "main": "src/index.ts",
  "compatibility_date": "2025-04-01",
  "compatibility_flags": ["nodejs_compat",],
  "observability": { "enabled": true },
  "durable_objects": {
    "bindings": [
      { "name": "COUNTER", "class_name": "Counter" },
      { "name": "ROOMS", "class_name": "ChatRoom" },
    ],
  },
  "vars": { "GREETING": "hello", "LIMITS": { "max": 3 } },
  "migrations": [
    { "tag": "v1", "new_sqlite_classes": ["Counter"] },
    { "tag": "v2", "new_classes": ["ChatRoom"], "renamed_classes": [{ "from": "Old", "to": "New" }],
      "deleted_classes": ["Gone"] },
  ],
  "kv_namespaces": [{ "binding": "CACHE", "id": "abc" }],
}
"""

TOML = """\
name = "counter-app"
main = "src/index.ts"
compatibility_date = 2025-04-01
compatibility_flags = ["nodejs_compat"]
workers_dev = true

[vars]
GREETING = "hello"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]

[triggers]
crons = ["* * * * *"]
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def project_files(config_name: str, config: str) -> dict[str, str]:
    return {config_name: config, "src/index.ts": "export default {};\n"}


def test_a_jsonc_config_with_comments_and_trailing_commas_is_read_whole(tmp_path):
    project = read_project(write(tmp_path, project_files("wrangler.jsonc", JSONC)))
    assert project.root == tmp_path
    assert project.config_path == tmp_path / "wrangler.jsonc"
    assert project.main == tmp_path / "src" / "index.ts"
    assert project.name == "counter-app"
    assert project.compatibility_date == "2025-04-01"
    assert project.compatibility_flags == ("nodejs_compat",)
    assert project.bindings == {"COUNTER": "Counter", "ROOMS": "ChatRoom"}
    assert project.vars == {"GREETING": "hello", "LIMITS": {"max": 3}}
    assert project.migrations == (
        Migration(tag="v1", new_sqlite_classes=("Counter",)),
        Migration(tag="v2", new_classes=("ChatRoom",), renamed_classes=(("Old", "New"),), deleted_classes=("Gone",)),
    )


def test_keys_dobj_cannot_honour_are_listed_and_deploy_only_keys_are_not(tmp_path):
    project = read_project(write(tmp_path, project_files("wrangler.jsonc", JSONC)))
    assert project.unsupported == ("kv_namespaces",)


def test_a_toml_config_reads_the_same_and_its_bare_date_becomes_text(tmp_path):
    project = read_project(write(tmp_path, project_files("wrangler.toml", TOML)))
    assert project.compatibility_date == "2025-04-01"
    assert project.bindings == {"COUNTER": "Counter"}
    assert project.vars == {"GREETING": "hello"}
    assert project.migrations == (Migration(tag="v1", new_sqlite_classes=("Counter",)),)
    assert project.unsupported == ("triggers",)


def test_several_configs_in_one_folder_are_chosen_in_wranglers_order(tmp_path):
    write(tmp_path, {"src/index.ts": "export default {};", "src/other.ts": "export default {};"})
    write(tmp_path, {"wrangler.toml": 'name = "from-toml"\nmain = "src/index.ts"\n'})
    assert read_project(tmp_path).name == "from-toml"
    write(tmp_path, {"wrangler.jsonc": '{"name": "from-jsonc", "main": "src/index.ts"}'})
    assert read_project(tmp_path).name == "from-jsonc"
    write(tmp_path, {"wrangler.json": '{"name": "from-json", "main": "src/other.ts"}'})
    assert read_project(tmp_path).name == "from-json"
    assert read_project(tmp_path / "wrangler.toml").name == "from-toml"


def test_a_config_file_can_be_given_itself(tmp_path):
    write(tmp_path, project_files("wrangler.toml", TOML))
    assert read_project(tmp_path / "wrangler.toml").config_path == tmp_path / "wrangler.toml"


def test_an_entry_module_without_config_has_no_bindings_and_its_package_folder_as_root(tmp_path):
    write(tmp_path, {"package.json": "{}", "src/worker.mjs": "export default {};"})
    project = read_project(tmp_path / "src" / "worker.mjs")
    assert project.config_path is None
    assert project.bindings is None
    assert project.root == tmp_path
    assert project.main == tmp_path / "src" / "worker.mjs"
    assert project.name == tmp_path.name


def test_an_entry_module_under_a_config_uses_that_config_with_itself_as_main(tmp_path):
    write(tmp_path, project_files("wrangler.toml", TOML))
    write(tmp_path, {"src/alt.ts": "export default {};"})
    project = read_project(tmp_path / "src" / "alt.ts")
    assert project.config_path == tmp_path / "wrangler.toml"
    assert project.main == tmp_path / "src" / "alt.ts"
    assert project.bindings == {"COUNTER": "Counter"}


def test_a_folder_below_the_config_finds_it_as_wrangler_does(tmp_path):
    write(tmp_path, project_files("wrangler.toml", TOML))
    assert read_project(tmp_path / "src").config_path == tmp_path / "wrangler.toml"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"wrangler.jsonc": '{"name": "x"}'}, 'no main entry; add "main": "src/index.ts"'),
        ({"wrangler.jsonc": '{"main": "src/missing.ts"}'}, "main 'src/missing.ts' does not exist"),
        ({"wrangler.jsonc": '{"main": 3}'}, "main must be the path of the entry module"),
        ({"wrangler.jsonc": '{\n  "main": "a.ts"\n  "name": "x"\n}'}, "wrangler.jsonc:3:3: invalid JSON"),
        ({"wrangler.jsonc": "[1, 2]"}, "must hold an object of settings, not list"),
        ({"wrangler.jsonc": "  "}, "is empty"),
        ({"wrangler.toml": 'main = "a.ts"\nname = \n'}, "wrangler.toml:2:8: invalid TOML: Invalid value"),
    ],
)
def test_a_broken_config_names_the_file_the_place_and_what_to_do(tmp_path, files, expected):
    write(tmp_path, files)
    with pytest.raises(BundleError) as err:
        read_project(tmp_path)
    assert expected in err.value.message
    assert str(tmp_path) in err.value.message


def test_a_folder_without_any_config_says_what_to_pass_instead(tmp_path):
    with pytest.raises(BundleError, match="holds no wrangler.json, wrangler.jsonc or wrangler.toml"):
        read_project(tmp_path)


@pytest.mark.parametrize(
    ("bindings", "expected"),
    [
        ('[{"name": "COUNTER"}]', 'durable_objects.bindings[0] (COUNTER) has no class_name; add the exported class'),
        ('[{"class_name": "Counter"}]', "durable_objects.bindings[0] has no name"),
        ('{"name": "COUNTER"}', "durable_objects.bindings must be a list"),
        ('[{"name": "A", "class_name": "X"}, {"name": "A", "class_name": "Y"}]', "binding A is defined twice"),
    ],
)
def test_a_bad_durable_object_binding_is_a_load_error(tmp_path, bindings, expected):
    config = f'{{"main": "src/index.ts", "durable_objects": {{"bindings": {bindings}}}}}'
    write(tmp_path, project_files("wrangler.json", config))
    with pytest.raises(BundleError) as err:
        read_project(tmp_path)
    assert expected in err.value.message


def test_a_binding_to_another_workers_class_is_listed_as_unsupported_not_bound(tmp_path):
    config = """{"name": "me", "main": "src/index.ts", "durable_objects": {"bindings": [
        {"name": "LOCAL", "class_name": "Counter", "script_name": "me"},
        {"name": "REMOTE", "class_name": "Room", "script_name": "chat-worker"}]}}"""
    project = read_project(write(tmp_path, project_files("wrangler.json", config)))
    assert project.bindings == {"LOCAL": "Counter"}
    assert project.unsupported == ("durable_objects.bindings[1] (REMOTE: class Room of worker 'chat-worker')",)


@pytest.mark.parametrize(
    ("migrations", "expected"),
    [
        ('[{"new_classes": ["A"]}]', 'migrations[0] has no tag; add "tag": "v1"'),
        ('[{"tag": "v1", "new_sqlite_classes": "A"}]', "migrations[0].new_sqlite_classes must be a list of class names"),
        ('[{"tag": "v1", "renamed_classes": [{"from": "A"}]}]', "renamed_classes must be a list of {from, to}"),
        ('{"tag": "v1"}', "migrations must be a list"),
    ],
)
def test_malformed_migrations_are_load_errors(tmp_path, migrations, expected):
    write(tmp_path, project_files("wrangler.json", f'{{"main": "src/index.ts", "migrations": {migrations}}}'))
    with pytest.raises(BundleError) as err:
        read_project(tmp_path)
    assert expected in err.value.message


def test_migration_keys_dobj_ignores_are_listed(tmp_path):
    config = '{"main": "src/index.ts", "migrations": [{"tag": "v1", "transferred_classes": []}]}'
    project = read_project(write(tmp_path, project_files("wrangler.json", config)))
    assert project.unsupported == ("migrations[0].transferred_classes",)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('{"main": "src/index.ts", "compatibility_date": "April"}', "compatibility_date must be a date"),
        ('{"main": "src/index.ts", "compatibility_flags": "nodejs_compat"}', "compatibility_flags must be a list"),
        ('{"main": "src/index.ts", "vars": ["A"]}', "vars must be a table"),
        ('{"main": "src/index.ts", "name": 3}', "name must be a string"),
    ],
)
def test_settings_of_the_wrong_type_are_load_errors(tmp_path, config, expected):
    write(tmp_path, project_files("wrangler.json", config))
    with pytest.raises(BundleError, match=expected):
        read_project(tmp_path)


def test_folders_wrangler_files_and_typescript_or_mjs_entries_are_projects(tmp_path):
    write(tmp_path, {"a.ts": "", "b.mjs": "", "c.mts": "", "wrangler.toml": ""})
    assert all(is_project(tmp_path / name) for name in ("a.ts", "b.mjs", "c.mts", "wrangler.toml"))
    assert is_project(tmp_path)


def test_a_js_file_is_a_project_entry_only_when_it_uses_module_syntax(tmp_path):
    write(tmp_path, {
        "esm.js": "import { DurableObject } from 'cloudflare:workers';\nexport class C extends DurableObject {}\n",
        "cjs.js": "// export default is not used here\nconst s = 'export default x';\nexports.objects = { C };\n",
    })
    assert is_project(tmp_path / "esm.js")
    assert not is_project(tmp_path / "cjs.js")
    assert not is_project(ROOT / "samples" / "counter.js")
    assert not is_project(tmp_path / "missing.js")


@pytest.mark.parametrize(
    "source",
    [
        'const s = "import x from \\"y\\""; module.exports = s;',
        "const t = `${a} export default ${b}`; exports.t = t;",
        'const r = /"export default/g; exports.r = r;',
        "/* export class A {} */ exports.objects = {};",
        "const o = { export: 1, import: 2 }; o.export = import('./x.js');",
        "class A { import() {} export() {} } exports.A = A;",
        "const m = typeof import.meta; exports.m = m;",
    ],
)
def test_commonjs_that_only_mentions_import_or_export_is_not_module_syntax(source):
    assert not has_module_syntax(source)


@pytest.mark.parametrize(
    "source",
    [
        "export default {}",
        "import 'polyfill';",
        "import * as ns from './ns.js'; exports.x = 1;",
        "const t = `${ {a: `${1}`}.a }`;\nexport { t };",
        "let a = b / c / d;\nexport const x = a;",
        "#!/usr/bin/env node\nexport const x = 1;",
    ],
)
def test_import_and_export_statements_are_module_syntax(source):
    assert has_module_syntax(source)


def test_the_docstring_examples_of_the_project_module_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(importlib.import_module("dobj.runtime.project"))
    assert result.attempted > 0 and result.failed == 0
