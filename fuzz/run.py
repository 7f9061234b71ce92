"""Coverage-guided fuzzing of one reader with atheris (libFuzzer), seeded with fuzz/corpus/.

    pip install -e '.[fuzz]'
    python fuzz/run.py logs                       # runs until a finding or Ctrl-C
    python fuzz/run.py inventory -- -max_total_time=600 -rss_limit_mb=4096
    python fuzz/run.py --replay crash-<sha1>      # re-run one input under every target

Targets: logs, logs-read (no output rendering, faster), records, servicetags, inventory,
archivescan (the compiled JSON-lines scanner against the reference reader) (fuzz/targets.py).
New interesting inputs are written to --work (default
$TMPDIR/pullpath-fuzz/<target>, outside the repository); a crashing input is written by
libFuzzer as crash-<sha1> in the current directory. Every finding becomes a regression test in
tests/test_fuzz_regressions.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", nargs="?", default="logs",
                        choices=("logs", "logs-read", "records", "servicetags", "inventory",
                                 "archivescan"))
    parser.add_argument("--replay", type=Path, help="run one input file under every target")
    parser.add_argument("--work", type=Path, default=None,
                        help="where libFuzzer keeps the inputs it finds (default: "
                             "$TMPDIR/pullpath-fuzz/<target>, outside the repository)")
    parser.add_argument("libfuzzer_args", nargs="*", help="arguments for libFuzzer (after --)")
    args = parser.parse_args()

    if args.replay is not None:
        from fuzz.targets import TARGETS

        data = args.replay.read_bytes()
        for name, replay in TARGETS.items():
            replay(data)
            print(f"{name}: ok")
        return

    import atheris  # type: ignore[import-untyped,unused-ignore]

    # instrument pullpath only (instrumenting every loaded library takes minutes)
    with atheris.instrument_imports(include=["pullpath"]):
        from fuzz.targets import TARGETS

    target = TARGETS[args.target]
    seeds = HERE / "corpus" / {"records": "logs", "logs-read": "logs",
                               "archivescan": "logs"}.get(args.target, args.target)
    work = args.work or Path(tempfile.gettempdir()) / "pullpath-fuzz" / args.target
    work.mkdir(parents=True, exist_ok=True)

    def one_input(data: bytes) -> None:
        target(data)

    atheris.Setup([sys.argv[0], *args.libfuzzer_args, str(work), str(seeds)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
