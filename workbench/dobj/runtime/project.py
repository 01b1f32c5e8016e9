"""Cloudflare Workers projects: find and read the wrangler config, tell a project from a bundle.

A project is a folder holding ``wrangler.json``, ``wrangler.jsonc`` or ``wrangler.toml``,
such a file, or an entry module (``.js``, ``.mjs``, ``.ts``, ``.mts``). As wrangler does,
the config is looked for in the given folder (or the entry module's folder) and then in
each parent folder; when several config files sit in one folder, wrangler's order wins:
``wrangler.json``, then ``wrangler.jsonc``, then ``wrangler.toml``. An entry module given
with a config found above it replaces the config's ``main``, as ``wrangler dev FILE`` does.

Config keys, and what dobj does with each:

- read: ``name``, ``main``, ``compatibility_date``, ``compatibility_flags``,
  ``durable_objects`` (``bindings``), ``vars``, ``migrations``;
- ignored silently, because they only matter for deploying or for wrangler's own dev
  server and change nothing that the code can observe: see ``IGNORED``;
- everything else (other bindings such as ``kv_namespaces``, ``triggers``, ``env``,
  ``rules``, ``alias``, ``build``, ...) is listed in ``Project.unsupported`` so that the
  caller warns about them once.

>>> is_project("samples/counter.js"), is_project("src/index.ts")
(False, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BundleError
from .syntax import has_module_syntax

CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")
ENTRY_SUFFIXES = (".js", ".mjs", ".ts", ".mts")
SUPPORTED = frozenset({
    "name", "main", "compatibility_date", "compatibility_flags", "durable_objects", "vars", "migrations",
})
# Deploy-time or wrangler-dev-only settings: nothing the Worker's code can observe locally.
IGNORED = frozenset({
    "$schema", "account_id", "workers_dev", "preview_urls", "route", "routes", "observability",
    "placement", "logpush", "upload_source_maps", "minify", "keep_names", "keep_vars", "send_metrics",
    "usage_model", "legacy_env", "dev", "compliance_region", "tail_consumers", "first_party_worker",
})


@dataclass(frozen=True)
class Migration:
    """One step of ``migrations``: which classes it creates, renames and deletes."""

    tag: str
    new_classes: tuple[str, ...] = ()
    new_sqlite_classes: tuple[str, ...] = ()
    renamed_classes: tuple[tuple[str, str], ...] = ()
    deleted_classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Project:
    """A Workers project as its config describes it.

    ``bindings`` maps a Durable Object binding name to its class name; it is ``None`` when
    there is no config (then every exported class extending ``DurableObject`` is a namespace).
    """

    root: Path
    config_path: Path | None
    main: Path
    name: str
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] = ()
    bindings: dict[str, str] | None = None
    vars: dict = field(default_factory=dict)
    migrations: tuple[Migration, ...] = ()
    unsupported: tuple[str, ...] = ()

    def relative(self, path: str | Path) -> str:
        """``path`` as the project shows it: relative to ``root`` when inside it, POSIX style.

        >>> Project(Path("/p"), None, Path("/p/src/a.ts"), "p").relative("/p/src/a.ts")
        'src/a.ts'
        """
        path = Path(path)
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def is_project(path: str | Path) -> bool:
    """Whether ``path`` is a Workers project rather than a CommonJS bundle.

    A folder, a wrangler file, a ``.ts``/``.mts``/``.mjs`` file are projects; a ``.js`` file
    is one when it uses ES module syntax (``import``/``export`` statements).

    >>> is_project("wrangler.toml"), is_project("worker.mjs"), is_project("bundle.cjs")
    (True, True, False)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir() or path.name in CONFIG_NAMES or suffix in (".jsonc", ".json", ".toml"):
        return True
    if suffix in (".ts", ".mts", ".mjs"):
        return True
    if suffix != ".js" or not path.is_file():
        return False
    try:
        return has_module_syntax(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return False


def read_project(path: str | Path) -> Project:
    """Read the project at ``path``: a folder, a wrangler config file, or an entry module.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "index.ts").write_text("export default {}")
    >>> _ = (folder / "wrangler.jsonc").write_text('{"name": "demo", "main": "index.ts", // ok\\n}')
    >>> project = read_project(folder)
    >>> project.name, project.main.name, project.bindings
    ('demo', 'index.ts', {})
    """
    path = Path(path).resolve()  # symlinks resolved, as module paths are: names stay relative to root
    entry = None
    if path.is_dir():
        config = find_config(path)
        if config is None:
            raise BundleError(
                f"{path} holds no wrangler.json, wrangler.jsonc or wrangler.toml (nor does a folder"
                " above it); add one with a main entry, or pass the entry module itself"
            )
    elif path.name in CONFIG_NAMES or path.suffix in (".jsonc", ".toml") or path.name.endswith(".json"):
        if not path.is_file():
            raise BundleError(f"config file {path} does not exist")
        config = path
    else:
        if not path.is_file():
            raise BundleError(f"entry module {path} does not exist")
        if path.suffix.lower() not in ENTRY_SUFFIXES:
            raise BundleError(f"{path}: an entry module is a .js, .mjs, .ts or .mts file")
        entry = path
        config = find_config(path.parent)
    if config is None:
        root = _package_root(entry.parent)
        return Project(root=root, config_path=None, main=entry, name=root.name)
    return _from_config(config, entry)


def find_config(folder: Path) -> Path | None:
    """The wrangler config that wrangler would use from ``folder``: there or in a parent."""
    for directory in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def _package_root(folder: Path) -> Path:
    for directory in (folder, *folder.parents):
        if (directory / "package.json").is_file():
            return directory
    return folder


def load_config(path: Path) -> dict:
    """The raw config at ``path`` (JSONC, JSON or TOML), or a :class:`BundleError` with the position."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise BundleError(f"{path} is not UTF-8 text: {exc}") from None
    if path.suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            where = f":{m.group(1)}:{m.group(2)}" if m else ""
            reason = re.sub(r"\s*\(at .*\)$", "", str(exc))
            raise BundleError(f"{path}{where}: invalid TOML: {reason}; fix the file and load again") from None
    else:
        import json5

        if not text.strip():
            raise BundleError(f"{path} is empty; it should hold an object such as {{\"main\": \"src/index.ts\"}}")
        try:
            data = json5.loads(text)
        except ValueError as exc:
            m = re.match(r"<string>:(\d+) (.*) at column (\d+)", str(exc))
            where, reason = (f":{m.group(1)}:{m.group(3)}", m.group(2)) if m else ("", str(exc))
            raise BundleError(f"{path}{where}: invalid JSON: {reason}; fix the file and load again") from None
    if not isinstance(data, dict):
        raise BundleError(f"{path} must hold an object of settings, not {type(data).__name__}")
    return data


def _from_config(config: Path, entry: Path | None) -> Project:
    data = load_config(config)
    root = config.parent
    where = config.name
    unsupported = [key for key in data if key not in SUPPORTED and key not in IGNORED]

    if entry is None:
        main = data.get("main")
        if main is None:
            raise BundleError(
                f"{config}: no main entry; add \"main\": \"src/index.ts\" (the path of the Worker's entry module)"
            )
        if not isinstance(main, str) or not main:
            raise BundleError(f"{config}: main must be the path of the entry module, such as \"src/index.ts\"")
        entry = (root / main).resolve()
        if not entry.is_file():
            raise BundleError(f"{config}: main {main!r} does not exist ({entry}); fix main or create the file")
    name = data.get("name", root.name)
    if not isinstance(name, str):
        raise BundleError(f"{where}: name must be a string")

    date = data.get("compatibility_date")
    if date is not None:
        date = date.isoformat() if hasattr(date, "isoformat") else date
        if not isinstance(date, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            raise BundleError(f"{where}: compatibility_date must be a date such as \"2025-01-01\", not {date!r}")
    flags = data.get("compatibility_flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise BundleError(f"{where}: compatibility_flags must be a list of strings")
    variables = data.get("vars", {})
    if not isinstance(variables, dict):
        raise BundleError(f"{where}: vars must be a table of names to values")

    bindings = _bindings(data.get("durable_objects"), where, name, unsupported)
    migrations = _migrations(data.get("migrations"), where, unsupported)
    return Project(
        root=root, config_path=config, main=entry, name=name, compatibility_date=date,
        compatibility_flags=tuple(flags), bindings=bindings, vars=dict(variables),
        migrations=migrations, unsupported=tuple(unsupported),
    )


def _bindings(section, where: str, worker: str, unsupported: list[str]) -> dict[str, str]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise BundleError(f"{where}: durable_objects must be a table holding bindings")
    unsupported += [f"durable_objects.{key}" for key in section if key != "bindings"]
    entries = section.get("bindings", [])
    if not isinstance(entries, list):
        raise BundleError(f"{where}: durable_objects.bindings must be a list of {{name, class_name}}")
    bindings: dict[str, str] = {}
    for i, entry in enumerate(entries):
        label = f"durable_objects.bindings[{i}]"
        if not isinstance(entry, dict):
            raise BundleError(f"{where}: {label} must be a table with name and class_name")
        binding, class_name = entry.get("name"), entry.get("class_name")
        if not isinstance(binding, str) or not binding:
            raise BundleError(f"{where}: {label} has no name; add \"name\": \"COUNTER\" (the env binding)")
        if not isinstance(class_name, str) or not class_name:
            raise BundleError(
                f"{where}: {label} ({binding}) has no class_name; add the exported class, such as \"class_name\": \"Counter\""
            )
        if binding in bindings:
            raise BundleError(f"{where}: {label}: binding {binding} is defined twice")
        script = entry.get("script_name")
        if script is not None and script != worker:
            unsupported.append(f"{label} ({binding}: class {class_name} of worker {script!r})")
            continue
        unsupported += [f"{label}.{key}" for key in entry if key not in ("name", "class_name", "script_name")]
        bindings[binding] = class_name
    return bindings


def _migrations(section, where: str, unsupported: list[str]) -> tuple[Migration, ...]:
    if section is None:
        return ()
    if not isinstance(section, list):
        raise BundleError(f"{where}: migrations must be a list of {{tag, new_sqlite_classes, ...}}")
    steps = []
    for i, step in enumerate(section):
        label = f"migrations[{i}]"
        if not isinstance(step, dict):
            raise BundleError(f"{where}: {label} must be a table")
        tag = step.get("tag")
        if not isinstance(tag, str) or not tag:
            raise BundleError(f"{where}: {label} has no tag; add \"tag\": \"v{i + 1}\"")

        renamed = step.get("renamed_classes", [])
        if not isinstance(renamed, list) or not all(
            isinstance(r, dict) and isinstance(r.get("from"), str) and isinstance(r.get("to"), str) for r in renamed
        ):
            raise BundleError(f"{where}: {label}.renamed_classes must be a list of {{from, to}} class names")
        known = {"tag", "new_classes", "new_sqlite_classes", "renamed_classes", "deleted_classes"}
        unsupported += [f"{label}.{key}" for key in step if key not in known]
        steps.append(Migration(
            tag=tag,
            new_classes=_class_names(step, "new_classes", f"{where}: {label}"),
            new_sqlite_classes=_class_names(step, "new_sqlite_classes", f"{where}: {label}"),
            renamed_classes=tuple((r["from"], r["to"]) for r in renamed),
            deleted_classes=_class_names(step, "deleted_classes", f"{where}: {label}"),
        ))
    return tuple(steps)


def _class_names(step: dict, key: str, label: str) -> tuple[str, ...]:
    value = step.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BundleError(f"{label}.{key} must be a list of class names")
    return tuple(value)
