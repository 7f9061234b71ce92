"""Run command lines through the real Azure CLI, in one process: reads one JSON list of
arguments per line on stdin (``["container", "create", "-g", ...]``), gives each to
``azure.cli.core.get_default_cli().invoke`` and prints one JSON list of
``{"argv", "exit", "output"}`` on stdout, the output being everything the CLI printed or
logged for that line.

Run by tests/lab/test_lab_azcli.py with the Python of the Azure CLI's own virtual environment
(tests/.azcli, installed by scripts/test); it is not imported by the test suite."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys


class _Capture(logging.Handler):
    """The CLI logs its errors (``ERROR: ...``) through logging, set up once per process:
    collect them for the line being run."""

    buffer: io.StringIO | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.buffer is not None:
            self.buffer.write(f"{record.levelname}: {record.getMessage()}\n")


def main() -> None:
    from azure.cli.core import get_default_cli

    capture = _Capture(logging.DEBUG)
    results = []
    for line in sys.stdin:
        if not line.strip():
            continue
        argv = json.loads(line)
        buffer = io.StringIO()
        capture.buffer = buffer
        cli = get_default_cli()
        for name in ("", "cli"):
            logger = logging.getLogger(name)
            if capture not in logger.handlers:
                logger.addHandler(capture)
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            try:
                code = cli.invoke(argv, out_file=buffer)
            except SystemExit as exc:  # argparse exits on a usage error
                code = exc.code if isinstance(exc.code, int) else 2
        results.append({"argv": argv, "exit": code, "output": buffer.getvalue()})
    sys.__stdout__.write(json.dumps(results))


if __name__ == "__main__":
    main()
