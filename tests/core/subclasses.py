"""Find the classes a registry must list: the registry-completeness tests of export formats
(``tests/exporters``) and runtime engines (``tests/runtime``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType


def defined_subclasses(package: ModuleType, base: type) -> set[type]:
    """Concrete subclasses of ``base`` defined in a module of ``package`` (recursively).

    Classes are counted where they are defined, not where they are imported, and abstract
    ones (base classes of the registry entries) are left out.
    """
    found: set[type] = set()
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        found |= {cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, base) and cls is not base and not inspect.isabstract(cls)
                  and cls.__module__ == module.__name__}
    return found
