"""syndicate: per-category feeds and daily or weekly digests for a category-organised site."""

__version__ = "0.1.0"
