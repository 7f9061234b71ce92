"""``python -m pullpath`` and the ``pullpath`` console script."""

from __future__ import annotations

import gc


def main() -> None:
    """Run the command line. Importing it allocates many objects and frees almost none, so
    the cyclic collector is paused meanwhile (its collections would find nothing: about 10 ms
    of every command's start-up), and what the imports made is then frozen out of later
    collections' reach."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        from pullpath.cli.app import main as run
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    run()


if __name__ == "__main__":
    main()
