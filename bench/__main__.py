"""``python -m bench NAME [options]``: run one benchmark (``core``, ``http``, ``soak``, ``modules``, ``cloudflare``, ``snapshots``, ``broadcast``)."""

from __future__ import annotations

import importlib
import sys

BENCHES = {
    "core": "bench.core",
    "http": "bench.http",
    "soak": "bench.soak",
    "modules": "bench.modules",
    "cloudflare": "bench.cloudflare",
    "snapshots": "bench.snapshots",
    "broadcast": "bench.broadcast",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in BENCHES:
        print("usage: python -m bench {" + ",".join(BENCHES) + "} [options]  (NAME --help for its options)")
        return 2
    module = importlib.import_module(BENCHES[argv[0]])
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
