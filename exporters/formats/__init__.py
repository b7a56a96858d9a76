"""One package (or module) per export format; see :mod:`exporters.registry`."""
