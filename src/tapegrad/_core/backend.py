"""The one place the engine and the op forwards reach the array library.

Today this is NumPy. Forward implementations write ``xp.exp(x)``, never ``np.exp``,
so another library that follows the array API (CuPy, Dask) can be put here later.
"""
import numpy as xp

__all__ = ["xp"]
