"""TFLite: the format (:mod:`.format`), full-integer quantization with the float-head
fallback (:mod:`.int8`) and ``detector.json`` inside the FlatBuffer (:mod:`.metadata`).

Kept empty on purpose: the format is imported through :data:`exporters.registry.FORMATS`.
"""
