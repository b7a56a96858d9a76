"""TF.js graph models: the format (:mod:`.format`), graph repairs for the wasm backend
(:mod:`.graph`) and the Node.js runner (:mod:`.node` + ``run_tfjs.cjs``).

Kept empty on purpose: the format is imported through :data:`exporters.registry.FORMATS`.
"""
