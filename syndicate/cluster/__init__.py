"""Several machines on one PostgreSQL store: the elected leader, the queue and its workers.

``leadership`` elects the one ``syndicate run`` that schedules; ``dispatch``
is what that leader defers; ``tasks`` are the units of work a ``syndicate
worker`` runs (``worker``), on Procrastinate (``queue_app``); ``shared_pace``
holds a relay's rate across them all; ``nodes`` and ``overview`` tell
``syndicate status`` and ``health`` who is there.
"""
