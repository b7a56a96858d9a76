"""Side-by-side performance scripts; their results and verdicts are in BENCHMARKS.md.

Each script is a module run from the repository root, e.g.
``.venv/bin/python -m benchmarks.onnx_peer --models fast accurate``. Helpers shared by the
scripts live in the underscore modules (:mod:`benchmarks._common`,
:mod:`benchmarks._timing`, :mod:`benchmarks._exports`). How to measure is in
docs/DESIGN.md section 6.
"""
