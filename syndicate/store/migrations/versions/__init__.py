"""The revisions, one file each, numbered 0001, 0002, … (the id is the number).

A package only so that a wheel ships them; Alembic skips this file.
"""
