"""The streaming benchmark: ``python -m bench.streaming`` (see ``__main__`` and bench/README.md)."""
