"""``python -m pullpath`` and the ``pullpath`` console script.

The process-wide tuning of a command's process lives here, and only here: a library caller
(``run_audit()`` and the rest) keeps its garbage collector, switch interval and environment
as they were. docs/performance.md ("Simplification (issue 17)") has what each is worth.
"""

from __future__ import annotations

import gc
import os
import sys

SWITCH_INTERVAL = 0.0005
"""Seconds. A log-scanning thread back from the compiled scanner waits for the interpreter
lock until the thread running Python gives it up, every switch interval at the latest (5 ms
by default)."""


def tune_process() -> None:
    """What a command's process is set to before anything is imported:

    - ``OPENBLAS_NUM_THREADS=1`` (a value the user set wins): pullpath uses numpy for
      vectorised lookups, never for linear algebra, and OpenBLAS otherwise starts a thread
      per CPU that spins after import, taking CPU from the log scanners;
    - the cyclic garbage collector off for the whole command: an audit makes millions of
      objects that hold no cycles, and each automatic collection walks the report alive;
      the process ends with the command (``cli.common.keep_until_exit``);
    - a short switch interval (``SWITCH_INTERVAL``), for the scanning threads."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    gc.disable()
    sys.setswitchinterval(SWITCH_INTERVAL)


def main() -> None:
    """Run the command line in this process, which it ends."""
    tune_process()
    from pullpath.cli.app import main as run

    run()


if __name__ == "__main__":
    main()
