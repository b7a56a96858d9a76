"""One module per export format; see :mod:`exporters.registry`."""
