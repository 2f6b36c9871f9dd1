"""Case table: the layers conv1dify's tracing of subclassed layers adds to a graph.

``LayerWeight`` (a weight a subclassed layer owns, as a graph node) is tested with the blocks that own such weights,
against the 2D blocks themselves, in ``tests/keras/test_subclassed.py``.
"""

from conv1dify.keras._trace import LayerWeight

CASES: list = []
COVERED = [LayerWeight]
