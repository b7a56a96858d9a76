"""Device benchmarking: the versioned protocol shared by ``sdk bench`` and the browser.

See :mod:`sdk.bench.protocol`. Pure stdlib: importing it never pulls in Flask or TensorFlow.
"""

from sdk.bench.protocol import PROTOCOL_VERSION, compare_detections, protocol_dict, summarize

__all__ = ["PROTOCOL_VERSION", "compare_detections", "protocol_dict", "summarize"]
