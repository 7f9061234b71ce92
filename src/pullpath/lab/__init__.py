"""``pullpath lab``: deploy the design's experiment in a throw-away resource group, make it pull,
read the registry's logs, audit them, compare with the prediction, and remove everything.

Scenarios are data (``scenarios/*.yaml``); :mod:`.render` turns one into ARM templates (pure);
:mod:`.runner` drives Azure through the SDK clients (its steps by phase in :mod:`.deploying`,
:mod:`.triggering`, :mod:`.collecting`, :mod:`.cleanup`, on :mod:`.clients`); :mod:`.report`
compares prediction and observation.
"""
