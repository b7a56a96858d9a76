"""The web demo: in-browser detection on a phone, served by Flask.

``create_app()`` (in :mod:`web_demo.app`) builds the app; ``sdk serve`` runs it. Flask is
imported on first use of ``create_app``, so ``sdk serve --help`` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from web_demo.app import create_app

        return create_app
    raise AttributeError(f"module 'web_demo' has no attribute {name!r}")
