"""Observing the pipeline from outside: Prometheus metrics (``metrics.py``, ``exposition.py``)."""
