"""CoreML: the mlprogram format (:mod:`.format`), its Vision pipeline (:mod:`.vision`) and
structural check (:mod:`.check`).

Kept empty on purpose: importing a submodule (e.g. ``exporters.formats.coreml.mil``) must not
import the format or coremltools.
"""
