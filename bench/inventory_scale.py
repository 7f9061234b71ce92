"""Time the inventory side at scale: reading and linking, classifying, explaining, reports.

    python bench/inventory_scale.py [--resources N ...] [--registries R ...]

``--resources``: an inventory of about N resources (``tests/support/large_inventory.py``: VNets
with a standalone subnet, identities, container groups, a registry with a private endpoint every
tenth unit) is written to a temporary file, then timed in this process: ``read_inventory``
(JSON decode, parse, link), ``Classifier`` (indexes), explain (predictions and findings).
``--registries``: an inventory with R registries (one consumer each) is explained and the
report rendered as Markdown and HTML (the path diagram sums up past 200 registries). Each
stage is timed once, in CPU seconds of this process (``time.process_time``); the numbers go to
stdout and to bench/out/inventory-scale.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.large_inventory import large_inventory  # noqa: E402

from pullpath.adapters.inventory_files import read_inventory  # noqa: E402
from pullpath.core.classify import Classifier  # noqa: E402
from pullpath.formatters.html import explain_html  # noqa: E402
from pullpath.formatters.markdown import explain_markdown  # noqa: E402
from pullpath.workflows.explain import explain_inventory  # noqa: E402

OUT = ROOT / "bench" / "out"
_T = TypeVar("_T")


def timed(fn: Callable[[], _T]) -> tuple[_T, float]:
    """``fn()`` and the CPU seconds it took (``time.process_time``: this process, all threads;
    on a shared machine wall time says more about the neighbours than about pullpath)."""
    start = time.process_time()
    value = fn()
    return value, round(time.process_time() - start, 3)


def units_for(resources: int) -> int:
    """Units of ``large_inventory`` giving about ``resources`` resources (4 per unit, 3 more
    every tenth)."""
    return max(1, round(resources / 4.3))


def inventory_stages(resources: int, tmp: Path) -> dict[str, Any]:
    docs = large_inventory(units_for(resources))
    path = tmp / f"inventory-{resources}.json"
    path.write_text(json.dumps({"value": docs}))
    inv, read_s = timed(lambda: read_inventory([path]))
    _, classifier_s = timed(lambda: Classifier(inv, None))
    report, explain_s = timed(lambda: explain_inventory(inv))
    return {"resources": len(docs), "read_and_link_s": read_s, "classifier_s": classifier_s,
            "explain_s": explain_s, "pairs": len(report.pairs)}


def report_stages(registries: int, tmp: Path) -> dict[str, Any]:
    path = tmp / f"registries-{registries}.json"
    path.write_text(json.dumps({"value": large_inventory(registries, registry_every=1)}))
    report, explain_s = timed(lambda: explain_inventory(read_inventory([path])))
    markdown, markdown_s = timed(lambda: explain_markdown(report))
    html, html_s = timed(lambda: explain_html(report))
    return {"registries": registries, "read_and_explain_s": explain_s, "markdown_s": markdown_s,
            "html_s": html_s, "markdown_bytes": len(markdown.encode()),
            "html_bytes": len(html.encode()), "summary_diagram": "too many to draw" in markdown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, action="append",
                        help="inventory size (repeatable; default 10,000 50,000 100,000)")
    parser.add_argument("--registries", type=int, action="append",
                        help="registries in the report test (repeatable; default 1,000 16,000)")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": {"python": platform.python_version(),
                                           "platform": platform.platform()},
                               "inventory": [], "reports": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.resources or [10_000, 50_000, 100_000]:
            row = inventory_stages(n, Path(tmp))
            results["inventory"].append(row)
            print(f"{row['resources']:>8,} resources: read+link {row['read_and_link_s']:6.2f} s, "
                  f"classifier {row['classifier_s']:5.2f} s, explain {row['explain_s']:6.2f} s "
                  f"({row['pairs']:,} pairs)", flush=True)
        for n in args.registries or [1_000, 16_000]:
            row = report_stages(n, Path(tmp))
            results["reports"].append(row)
            print(f"{n:>8,} registries: read+explain {row['read_and_explain_s']:6.2f} s, "
                  f"markdown {row['markdown_s']:5.2f} s ({row['markdown_bytes']:,} B), html "
                  f"{row['html_s']:5.2f} s ({row['html_bytes']:,} B), summary diagram "
                  f"{row['summary_diagram']}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "inventory-scale.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
