"""Setup: an existing site → a ``schedule.yaml`` that runs it (``syndicate init``).

It comes before the data flow (collect → store → publish → digest → serve):
``jekyll_config.py`` reads a Jekyll site's ``_config.yml`` and posts into a
record, ``schedule_writer.py`` turns that record into a commented
``schedule.yaml``, checked by ``config.loads`` before it is written.
"""
