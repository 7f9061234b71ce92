"""pullpath: which network path does each Azure Container Registry pull really take?

Layout (read the folder names as the architecture):

- ``domain``     frozen value types: events, inventory, verdicts, flows (no I/O).
- ``core``       pure logic: IP index, service tags, classification, attribution,
                 flows, prediction rules (no I/O, no Azure SDK).
- ``knowledge``  what is known about Azure services, as data with sources and dates.
- ``adapters``   the edges: files, Azure (SDK clients), the environment.
- ``formatters`` results to table / JSON / CSV / Markdown / SARIF / HTML.
- ``cli``        the typer application.
"""

__version__ = "0.1.0"
