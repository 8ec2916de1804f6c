"""Digests: compose editions of recent posts and deliver them exactly once."""
