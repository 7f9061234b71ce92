"""``python -m pullpath`` and the ``pullpath`` console script.

The process-wide tuning of a command's process lives here, and only here: a library caller
(``run_audit()`` and the rest) keeps its garbage collector, switch interval and environment
as they were. docs/performance.md ("Simplification (issue 17)") has what each is worth.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading
from typing import NoReturn

SWITCH_INTERVAL = 0.0005
"""Seconds. A log-scanning thread back from the compiled scanner waits for the interpreter
lock until the thread running Python gives it up, every switch interval at the latest (5 ms
by default)."""


TUNED_COMMANDS = frozenset({"audit", "demo"})
"""The commands that read logs, and only they, run with ``tune_process``'s settings: a long
``lab run`` (an hour of polling through the Azure SDK) keeps the collector that frees its
reference cycles."""


def tune_process() -> None:
    """What an audit's process is set to before anything is imported (measured at 1M
    events, docs/performance.md):

    - the cyclic garbage collector off for the whole command: an audit makes millions of
      objects that hold no cycles, and each automatic collection walks the report alive
      (0.23-0.32 CPU-s of 2.1-2.5 saved); the process ends with the command (``end_now``);
    - a short switch interval (``SWITCH_INTERVAL``), for the scanning threads (0.2 s of
      wall time, CPU the same; measured on a loaded host, within its noise);
    - one OpenBLAS thread, unless the environment says otherwise (``OPENBLAS_NUM_THREADS``,
      read when numpy is imported): pullpath does no linear algebra, and the threads numpy's
      OpenBLAS starts spin, taking 0.10-0.11 CPU-s of an audit at 1M events from the scanning
      threads (14 and 10 interleaved pairs, 150 files and one file; wall -10 ms)."""
    gc.disable()
    sys.setswitchinterval(SWITCH_INTERVAL)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def end_now(code: str | int | None) -> NoReturn:
    """End a tuned command's process as ``sys.exit(code)`` would, without tearing the
    interpreter down: the ``atexit`` handlers run and the standard streams are flushed, then
    the process ends (``os._exit``). Freeing an audit's millions of objects one by one, only
    for the process to end, cost 75 ms of CPU and 84 ms of wall time at 1M events (eight
    interleaved pairs, docs/performance.md). While a thread that is not a daemon still runs,
    the interpreter ends as usual (it waits for it)."""
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()
           if t is not threading.current_thread()):
        sys.exit(code)
    if isinstance(code, str):  # as the interpreter does
        with contextlib.suppress(Exception):
            print(code, file=sys.stderr)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(1 if isinstance(code, str) else code or 0)


def main() -> None:
    """Run the command line in this process, which it ends."""
    tuned = any(arg in TUNED_COMMANDS for arg in sys.argv[1:2])
    if tuned:
        tune_process()
    from pullpath.cli.app import main as run

    if not tuned:
        run()
        return
    try:
        run()
    except SystemExit as done:
        end_now(done.code)
    end_now(0)


if __name__ == "__main__":
    main()
