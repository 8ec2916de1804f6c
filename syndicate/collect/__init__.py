"""Readers: turn sources (post folders, upstream feeds) into posts in the store."""
