"""ONNX: tf2onnx conversion with a static input (:mod:`.convert`), fp16 and calibrated QDQ
int8 (:mod:`.quantize`), ``detector.json`` in the model's ``metadata_props``
(:mod:`.metadata`) and the format itself (:mod:`.format`).

Kept empty on purpose: the format is imported through :data:`exporters.registry.FORMATS`.
"""
