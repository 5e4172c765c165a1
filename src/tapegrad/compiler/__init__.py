"""The trace compiler behind ``tg.function``: trace a Python function once per input signature, then
replay it as straight-line NumPy code (see ``function`` for what is traced and what runs eagerly).

>>> import tapegrad as tg
>>> square = tg.function(lambda x: x * x)
>>> square(tg.constant(3.0)).numpy()
np.float32(9.0)
"""
from .function import CACHE_SIZE, ConcreteFunction, Function, function

__all__ = ["CACHE_SIZE", "ConcreteFunction", "Function", "function"]
