"""A project's ES modules loaded into the real engine: resolution, kinds of files, errors."""

from __future__ import annotations

import doctest
import importlib
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from dobj.errors import BundleError
from dobj.runtime import transform
from dobj.runtime.engine import Engine
from dobj.runtime.modules import ModuleLoader
from dobj.runtime.project import read_project

WORKERS = """\
export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
"""


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    """Transforms are cached under tmp_path, never in the user's cache."""
    monkeypatch.setenv("DOBJ_CACHE_DIR", str(tmp_path / "cache"))


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def load(folder: Path, files: dict[str, str | bytes], main: str = "src/index.ts", **options):
    """Write a project, load its entry; return (engine, loader). The entry is ``entry`` in JS."""
    write(folder / "project", {"wrangler.jsonc": json.dumps({"name": "t", "main": main}), **files})
    loader = ModuleLoader(read_project(folder / "project"), {"cloudflare:workers": WORKERS})
    engine = Engine()
    engine.eval("globalThis.receive = (m) => { globalThis.entry = m; }")
    loader.load_entry(engine, "receive", **options)
    return engine, loader


def load_error(folder: Path, files: dict[str, str | bytes], main: str = "src/index.ts", **options) -> BundleError:
    with pytest.raises(BundleError) as err:
        load(folder, files, main, **options)
    return err.value


def test_relative_imports_resolve_with_and_without_extension_and_to_folder_indexes(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": """
            import { a } from "./a";
            import { b } from "./b.js";
            import { c } from "./lib";
            import { d } from "../shared/d.mjs";
            export const all: string = [a, b, c, d].join(",");
        """,
        "src/a.ts": "export const a = 'a-ts';",
        "src/b.ts": "export const b: string = 'b-ts-via-js-specifier';",
        "src/lib/index.ts": "export const c = 'lib-index';",
        "shared/d.mjs": "export const d = 'd-mjs';",
    })
    assert engine.eval("entry.all") == "a-ts,b-ts-via-js-specifier,lib-index,d-mjs"


def test_typescript_is_checked_by_esbuilds_extension_order_before_javascript(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": "export { which } from './twin';",
        "src/twin.ts": "export const which = 'ts';",
        "src/twin.js": "export const which = 'js';",
    })
    assert engine.eval("entry.which") == "ts"


def test_one_file_is_one_module_instance_whatever_specifier_reaches_it(tmp_path):
    engine, loader = load(tmp_path, {
        "src/index.ts": """
            import { bump } from "./state";
            import { count } from "./state.ts";
            import * as again from "../src/state";
            bump(); bump();
            export const seen = [count, again.count];
        """,
        "src/state.ts": "export let count = 0;\nexport function bump() { count++; }\n",
    })
    assert engine.eval("JSON.stringify(entry.seen)") == "[2,2]"
    assert sorted(n for n, m in loader.modules.items() if m.kind != "builtin") == ["src/index.ts", "src/state.ts"]


def test_cycles_and_live_bindings_behave_as_es_modules(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": "import { ping } from './a';\nexport const result = ping(3);",
        "src/a.ts": "import { pong } from './b';\nexport function ping(n: number): string { return n ? 'a' + pong(n - 1) : '.'; }",
        "src/b.ts": "import { ping } from './a';\nexport function pong(n: number): string { return n ? 'b' + ping(n - 1) : '.'; }",
    })
    assert engine.eval("entry.result") == "aba."


def test_top_level_await_finishes_before_the_receiver_gets_the_entry(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": "import { ready } from './setup';\nexport const value = ready;",
        "src/setup.ts": "export const ready = await Promise.resolve(41).then((n) => n + 1);",
    })
    assert engine.eval("entry.value") == 42


def test_dynamic_import_loads_project_modules_after_the_load(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": "export async function later() { const m = await import('./late'); return m.word; }",
        "src/late.ts": "export const word: string = 'late';",
    })
    engine.eval("globalThis.out = null; entry.later().then((w) => { out = w; })")
    engine.drain()
    assert engine.eval("out") == "late"
    engine.eval("import('./src/late.ts').then((m) => { out = m.word + ' from global code'; })")
    engine.drain()
    assert engine.eval("out") == "late from global code"


def test_a_failed_dynamic_import_caught_at_top_level_does_not_fail_the_load(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": """
            let message = "";
            try { await import("./optional"); } catch (e) { message = String(e.message); }
            export { message };
        """,
    })
    assert engine.eval("entry.message").startswith('src/index.ts:3:20: cannot import "./optional"')


def test_cloudflare_workers_comes_from_the_builtins_the_caller_gives(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": """
            import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
            export class Counter extends DurableObject<Env> { hello(): string { return "hi " + this.env.X; } }
            export default class extends WorkerEntrypoint {}
        """,
    })
    assert engine.eval("new entry.Counter({}, { X: 1 }).hello()") == "hi 1"


def test_json_imports_give_the_value_as_default_and_top_level_keys_as_names(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": "import data, { version } from './data.json';\nexport const got = [data.list.length, version, data.__proto__];",
        "src/data.json": '{"version": "1.2.3", "list": [1, 2, 3], "__proto__": "plain key", "default": 1}',
    })
    assert engine.eval("JSON.stringify(entry.got)") == '[3,"1.2.3","plain key"]'


def test_text_files_import_as_strings_following_wranglers_module_rules(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": """
            import page from "./page.html";
            import query from "./q.sql";
            import note from "./note.txt";
            export const texts = [page, query, note];
        """,
        "src/page.html": "<h1>héllo</h1>\n",
        "src/q.sql": "SELECT 1;",
        "src/note.txt": "line 1\nline 2 with \"quotes\" and \\ and \u2028",
    })
    assert json.loads(engine.eval("JSON.stringify(entry.texts)")) == [
        "<h1>héllo</h1>\n", "SELECT 1;", "line 1\nline 2 with \"quotes\" and \\ and \u2028"]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 255])
def test_bin_files_import_as_array_buffers_with_every_byte(tmp_path, size):
    data = bytes(range(256))[:size] if size < 256 else bytes(range(256))
    data = bytes((i * 7 + 3) % 256 for i in range(size))
    engine, _ = load(tmp_path, {
        "src/index.ts": "import blob from './blob.bin';\nexport const kind = Object.prototype.toString.call(blob);\nexport const bytes = Array.from(new Uint8Array(blob));",
        "src/blob.bin": data,
    })
    assert engine.eval("entry.kind") == "[object ArrayBuffer]"
    assert json.loads(engine.eval("JSON.stringify(entry.bytes)")) == list(data)


def test_bare_imports_use_the_workerd_export_condition_before_node_and_default(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": "import { where } from 'iso';\nimport { deep } from 'iso/deep';\nimport { feature } from 'iso/features/x';\nexport const got = [where, deep, feature];",
        "node_modules/iso/package.json": json.dumps({
            "name": "iso", "type": "module", "main": "./main.cjs",
            "exports": {
                ".": {"types": "./index.d.ts", "node": "./node.js", "workerd": "./workerd.js", "default": "./default.js"},
                "./deep": {"require": "./deep.cjs", "import": "./deep.mjs"},
                "./features/*": {"browser": "./features/*.browser.js", "default": "./features/*.js"},
                "./package.json": "./package.json",
            },
        }),
        "node_modules/iso/workerd.js": "export const where = 'workerd';",
        "node_modules/iso/node.js": "export const where = 'node';",
        "node_modules/iso/default.js": "export const where = 'default';",
        "node_modules/iso/deep.mjs": "export const deep = 'deep-import';",
        "node_modules/iso/features/x.browser.js": "export const feature = 'x-browser';",
    })
    assert engine.eval("JSON.stringify(entry.got)") == '["workerd","deep-import","x-browser"]'


def test_packages_without_exports_use_browser_module_then_main_and_scoped_names_work(tmp_path):
    engine, _ = load(tmp_path, {
        "src/index.ts": "import { a } from 'pkg-module';\nimport { b } from '@scope/pkg-main';\nimport { c } from 'pkg-module/extra';\nexport const got = [a, b, c];",
        "node_modules/pkg-module/package.json": '{"main": "./cjs.js", "module": "./esm/index"}',
        "node_modules/pkg-module/esm/index.js": "export const a = 'module-field';",
        "node_modules/pkg-module/extra.js": "export const c = 'subpath-file';",
        "node_modules/@scope/pkg-main/package.json": '{"main": "lib/main.mjs"}',
        "node_modules/@scope/pkg-main/lib/main.mjs": "export const b = 'main-field';",
    })
    assert engine.eval("JSON.stringify(entry.got)") == '["module-field","main-field","subpath-file"]'


def test_packages_are_found_in_node_modules_of_parent_folders(tmp_path):
    write(tmp_path, {
        "node_modules/hoisted/package.json": '{"module": "index.js"}',
        "node_modules/hoisted/index.js": "export const h = 'hoisted';",
    })
    engine, loader = load(tmp_path, {"src/index.ts": "export { h } from 'hoisted';"})
    assert engine.eval("entry.h") == "hoisted"
    assert str(tmp_path / "node_modules" / "hoisted" / "index.js") in loader.modules


def test_an_unresolvable_import_names_the_importing_file_line_specifier_and_what_was_tried(tmp_path):
    err = load_error(tmp_path, {
        "src/index.ts": "import { a } from './a';\nexport { a };",
        "src/a.ts": "// helpers\nimport { missing } from './helpers/missing';\nexport const a = missing;",
    })
    assert err.message.startswith('src/a.ts:2:25: cannot import "./helpers/missing": no file')
    assert "tried src/helpers/missing, src/helpers/missing.tsx, src/helpers/missing.ts," in err.message
    assert "src/helpers/missing.json" in err.message


def test_a_missing_package_says_to_install_it(tmp_path):
    err = load_error(tmp_path, {"src/index.ts": "\n\nimport { z } from 'zod';\nexport { z };"})
    assert err.message == (
        "src/index.ts:3:19: cannot import \"zod\": package 'zod' is not installed:"
        " no node_modules/zod in src or a folder above it (run npm install)"
    )


def test_a_subpath_a_package_does_not_export_is_a_load_error_naming_the_package(tmp_path):
    err = load_error(tmp_path, {
        "src/index.ts": "import x from 'pkg/private';\nexport default x;",
        "node_modules/pkg/package.json": '{"exports": {".": "./index.js"}}',
        "node_modules/pkg/index.js": "export default 1;",
    })
    assert "package 'pkg' does not export './private' for workers" in err.message


def test_a_commonjs_package_is_a_load_error_naming_the_package(tmp_path):
    err = load_error(tmp_path, {
        "src/index.ts": "import legacy from 'legacy';\nexport default legacy;",
        "node_modules/legacy/package.json": '{"main": "index.js"}',
        "node_modules/legacy/index.js": "module.exports = function legacy() {};",
    })
    assert err.message.startswith("src/index.ts:1:20: cannot import \"legacy\": package 'legacy' is CommonJS")
    assert "dobj does not load yet" in err.message


@pytest.mark.parametrize(
    ("specifier", "expected"),
    [
        ("node:fs", "'node:fs' is a Node.js built-in module, which dobj does not support yet"),
        ("path", "'path' is a Node.js built-in module, which dobj does not support yet"),
        ("./m.wasm", "m.wasm is a WebAssembly module, which dobj does not support yet"),
        ("./v.tsx", "v.tsx is a TSX (JSX) module, which dobj does not support yet"),
        ("./s.css", "s.css is a .css file, for which no module rule exists"),
    ],
)
def test_unsupported_imports_are_load_errors_naming_the_importing_file(tmp_path, specifier, expected):
    err = load_error(tmp_path, {
        "src/index.ts": f"export const x = 1;\nimport thing from '{specifier}';\nexport {{ thing }};",
        "src/m.wasm": b"\0asm", "src/v.tsx": "", "src/s.css": "",
    })
    assert err.message.startswith(f'src/index.ts:2:19: cannot import "{specifier}": ')
    assert expected in err.message


def test_a_typescript_syntax_error_names_the_file_line_and_column(tmp_path):
    err = load_error(tmp_path, {
        "src/index.ts": "import { C } from './counter';\nexport { C };",
        "src/counter.ts": "export class C {\n  n: number = 0;\n  add(by: number {\n  }\n}\n",
    })
    assert err.message == 'src/counter.ts:3:18: SyntaxError: Unexpected token, expected ","'
    assert err.js_name == "SyntaxError"


def test_a_namespace_holding_values_is_refused_instead_of_silently_dropped(tmp_path):
    err = load_error(tmp_path, {
        "src/index.ts": "namespace Types { export type Id = string; }\nexport namespace Util {\n  export const x = 1;\n}\n",
    })
    assert err.message.startswith("src/index.ts:2:8: SyntaxError: a TypeScript namespace holding values is not supported")


def test_a_javascript_syntax_error_names_the_file_line_and_column(tmp_path):
    err = load_error(tmp_path, {
        "src/index.ts": "import './broken.js';",
        "src/broken.js": "const a = 1;\nconst b = ;\n",
    })
    assert err.message == "src/broken.js:2:11: SyntaxError: unexpected token in expression: ';'"


def test_an_error_quickjs_finds_after_types_are_stripped_points_at_the_typescript_column(tmp_path):
    # QuickJS points at the "=" after the second "a": column 18 of "const a = 'x', a = 2;".
    err = load_error(tmp_path, {"src/index.ts": "const first: number = 1;\nconst a: string = 'x', a: number = 2;\n"})
    assert err.message == "src/index.ts:2:34: SyntaxError: invalid redefinition of global identifier"


def test_a_throw_at_a_modules_top_level_names_where_it_was_thrown(tmp_path):
    err = load_error(tmp_path, {
        "src/index.ts": "import { setting } from './config';\nexport default setting;",
        "src/config.ts": "type Env = { A: string };\nfunction need(name: string): never { throw new TypeError(`missing ${name}`); }\nexport const setting: string = need('A');\n",
    })
    # QuickJS places a throwing frame at the last variable its expression read (`name`),
    # column 54 of the stripped line: 69 once ": string" and ": never" are counted back in.
    assert err.message == "src/config.ts:2:69: TypeError: missing A"
    assert err.js_stack.splitlines()[0] == "    at need (src/config.ts:2:69)"
    assert err.js_stack.splitlines()[1].startswith("    at <anonymous> (src/config.ts:3:")


def test_a_top_level_rejection_is_a_load_error_with_its_location(tmp_path):
    err = load_error(tmp_path, {"src/index.ts": "const x: number = 1;\nawait Promise.reject(new RangeError('no ' + x));\n"})
    assert err.message == "src/index.ts:2:45: RangeError: no 1"


def test_module_frames_keep_only_the_projects_frames_with_typescript_columns(tmp_path):
    engine, loader = load(tmp_path, {
        "src/index.ts": "import { fail } from './fail';\nexport function run(): void { fail(1 as number); }",
        "src/fail.ts": "export function fail(code: number): never {\n  const text: string = 'x';\n  throw new Error(text + code);\n}\n",
    })
    stack = engine.eval("(() => { try { entry.run(); } catch (e) { return e.stack; } })()")
    assert loader.module_frames(stack).splitlines() == [
        "    at fail (src/fail.ts:3:26)",
        "    at run (src/index.ts:2:31)",
    ]
    assert loader.location(stack) == "src/fail.ts:3:26"


def test_an_error_in_a_builtin_module_names_the_builtin(tmp_path):
    write(tmp_path / "project", {"wrangler.json": '{"main": "index.ts"}', "index.ts": "import 'cloudflare:workers';"})
    loader = ModuleLoader(read_project(tmp_path / "project"), {"cloudflare:workers": "export const a = 1;\nexport const = 2;"})
    with pytest.raises(BundleError) as err:
        loader.load_entry(Engine(), "receive")
    assert err.value.message.startswith("cloudflare:workers:2:14: SyntaxError:")


def test_top_level_code_that_never_ends_is_stopped_by_the_budget(tmp_path):
    err = load_error(tmp_path, {"src/index.ts": "while (true) {}"}, budget=0.2)
    assert err.message == "src/index.ts: the top-level code did not finish within the budget"


def test_a_top_level_await_that_never_settles_is_a_clear_load_error(tmp_path):
    err = load_error(tmp_path, {"src/index.ts": "await new Promise(() => {});\nexport const x = 1;"})
    assert "a top-level await never settled while loading" in err.message


def test_an_entry_that_is_commonjs_or_unsupported_is_refused_before_running(tmp_path):
    err = load_error(tmp_path, {"src/index.js": "module.exports = { objects: {} };"}, main="src/index.js")
    assert err.message == "src/index.js: src/index.js is a CommonJS module, which dobj does not load yet; use an ES module build or file"


def test_transforms_are_cached_on_disk_by_content_and_redone_only_for_changed_files(tmp_path, monkeypatch):
    files = {"src/index.ts": "import { a } from './a';\nexport const v: number = a;", "src/a.ts": "export const a: number = 1;"}
    load(tmp_path, files)
    cached = sorted((tmp_path / "cache" / "ts").glob("*/*.json"))
    assert len(cached) == 2
    calls = []
    real = transform._transform
    monkeypatch.setattr(transform, "_transform", lambda s, f: calls.append(f) or real(s, f))
    monkeypatch.setattr(transform, "_memory", {})
    engine, _ = load(tmp_path, {**files, "src/a.ts": "export const a: number = 2;"})
    assert calls == ["src/a.ts"]
    assert engine.eval("entry.v") == 2


def test_a_corrupt_cache_entry_is_ignored(tmp_path, monkeypatch):
    files = {"src/index.ts": "export const v: number = 7;"}
    load(tmp_path, files)
    for entry in (tmp_path / "cache" / "ts").glob("*/*.json"):
        entry.write_text('{"code": 1}')
    monkeypatch.setattr(transform, "_memory", {})
    engine, _ = load(tmp_path, files)
    assert engine.eval("entry.v") == 7


@pytest.mark.parametrize("name", [
    "dobj.runtime.modules", "dobj.runtime.resolve", "dobj.runtime.transform", "dobj.runtime.syntax",
    "dobj.runtime.assets",
])
def test_the_docstring_examples_of_the_module_loading_modules_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed here")
def test_a_real_hono_app_loads_from_node_modules(tmp_path):
    folder = tmp_path / "project"
    write(folder, {"package.json": '{"name": "t", "private": true}'})
    try:
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "hono@4"], cwd=folder,
                       check=True, capture_output=True, timeout=240)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"npm could not install hono: {exc}")
    engine, loader = load(tmp_path, {
        "src/index.ts": """
            import { Hono } from "hono";
            const app = new Hono();
            app.get("/hello/:name", (c) => c.text(`hello ${c.req.param("name")}`));
            export default app;
        """,
    })
    assert engine.eval("typeof entry.default.fetch") == "function"
    assert engine.eval("entry.default.routes.map((r) => r.path).join()") == "/hello/:name"
    assert any("node_modules/hono/" in name for name in loader.modules)
