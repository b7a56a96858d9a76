"""The web demo: in-browser detection on a phone, served by Flask.

``create_app()`` (in :mod:`web_demo.app`) builds the app; ``sdk serve`` runs it.
"""

from web_demo.app import create_app

__all__ = ["create_app"]
