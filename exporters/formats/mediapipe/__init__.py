"""MediaPipe Tasks / TFLite Task Library: the format (:mod:`.format`), the model ending in
``TFLite_Detection_PostProcess`` (:mod:`.detection_op`) and its TFLite Metadata
(:mod:`.metadata`, written by :mod:`.tflite_support_writer` in the tflite-support venv).

Kept empty on purpose: the format is imported through :data:`exporters.registry.FORMATS`.
"""
