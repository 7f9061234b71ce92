"""Live Azure adapters: the only place pullpath talks to Azure (through the Azure SDK clients).

Each module wraps one service and returns plain data (dicts in the REST shape, or pullpath's
own values); the workflows in :mod:`pullpath.workflows.live` wire them to the pure core.
Clients are created per call from a :class:`~pullpath.adapters.azure.retry.ClientSettings`,
never at import time.
"""
