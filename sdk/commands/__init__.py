"""CLI sub-commands, one module each (imported lazily by sdk.cli)."""
