"""The one place the engine and the op forwards reach an array library.

NumPy is the hot path: forward kernels are written against ``xp`` (NumPy here), and a tensor
holding a NumPy array runs them as they are. A tensor may also hold an array of another library
that follows the Python array API (Dask, CuPy, ``array_api_strict``, ...). An op on such an array
runs the *same kernel code* with ``xp`` bound to that library's namespace (array-api-compat's, so
standard names work everywhere): ``forward_in`` makes that copy of a kernel once per library.
Nothing here imports array-api-compat until such an array first appears.

A kernel that calls something the other library lacks raises ``BackendError``, which names the op
and the library: such ops are NumPy-only (README's "Other array libraries" lists them).
"""
from __future__ import annotations

import types
from typing import Any

import numpy as xp

__all__ = ["xp", "NATIVE", "BackendError", "is_foreign", "namespace", "forward_in", "to_numpy", "np_dtype",
           "library", "device"]

# The types of a NumPy value, for the one check the hot path makes (a set lookup on the type).
NATIVE = frozenset({xp.ndarray, *(t for t in xp.sctypeDict.values() if issubclass(t, xp.generic))})
# The dtypes that carry gradients, as a set: a lookup is quicker than reading ``.kind``, and another
# library's own dtype objects (array_api_strict's) join it when the library first appears.
INEXACT = {xp.dtype(t) for t in ("float16", "float32", "float64", "complex64", "complex128")}
_LIBRARIES = ("dask", "cupy", "array_api_strict", "torch", "jax", "sparse", "ndonnx")


class BackendError(NotImplementedError):
    """An op whose kernel needs something the array's library does not have."""


def is_foreign(value: Any) -> bool:
    """Whether ``value`` is an array of another library than NumPy that tapegrad can hold."""
    if isinstance(value, (xp.ndarray, xp.generic)):
        return False
    return hasattr(value, "__array_namespace__") or type(value).__module__.split(".")[0] in _LIBRARIES


def library(value: Any) -> str:
    """The name of the library an array belongs to: 'numpy', 'dask', 'cupy', ..."""
    if isinstance(value, (xp.ndarray, xp.generic)):
        return "numpy"
    return type(value).__module__.split(".")[0]


class Namespace:
    """A library's array-API namespace as kernels see it through ``xp``, on one device.

    NumPy's names are tried as the library spells them, then under the standard's name
    (``power`` is ``pow``, ``concatenate`` is ``concat``), then as written here in standard calls
    (``fmod``, ``angle``, ``swapaxes``). ``errstate`` is NumPy's (it only silences NumPy, which
    another library does not use), and ``ndarray``/``generic`` stay NumPy's, so a kernel's
    ``type(x) is xp.ndarray`` fast path is simply not taken.

    One Namespace per library *and device*: its array-making functions (``zeros``, ``asarray``, ...)
    make arrays on that device, so a kernel's constants and a NumPy input joining a GPU array land
    on the GPU, never silently on the host.
    """

    _STANDARD = {"power": "pow", "arccos": "acos", "arcsin": "asin", "arctan": "atan", "arctan2": "atan2",
                 "arccosh": "acosh", "arcsinh": "asinh", "arctanh": "atanh", "concatenate": "concat",
                 "transpose": "permute_dims", "absolute": "abs", "true_divide": "divide", "bool_": "bool",
                 "left_shift": "bitwise_left_shift", "right_shift": "bitwise_right_shift",
                 "invert": "bitwise_invert", "amax": "max", "amin": "min", "mod": "remainder",
                 "conjugate": "conj", "rint": "round", "cumsum": "cumulative_sum", "cumprod": "cumulative_prod"}
    _NUMPY_OWN = frozenset({"errstate", "ndarray", "generic", "dtype"})
    # NumPy's functions of any real or complex input that the standard allows on complex ones only
    _ANY_DTYPE = frozenset({"real", "imag", "conj", "conjugate"})
    _MAKERS = frozenset({"asarray", "zeros", "ones", "empty", "full", "arange", "eye", "linspace"})

    def __init__(self, name: str, ns: Any, raw: Any, device: Any = None) -> None:
        self.__name__ = name
        self._ns = ns
        self._raw = raw
        self._device = device
        # array_api_strict's dtypes are objects of its own: NumPy dtypes given to astype are translated
        f64 = getattr(ns, "float64", None)
        self._own_dtypes = f64 is not None and not isinstance(f64, (xp.dtype, type))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._NUMPY_OWN:
            value = getattr(xp, name)
        elif name in self._ANY_DTYPE:
            value = self._any_dtype(getattr(self._ns, self._STANDARD.get(name, name)), name)
        elif name == "astype":
            value = self._astype
        else:
            value = getattr(self._ns, name, None)
            if value is None:
                value = getattr(self._ns, self._STANDARD.get(name, name), None)
            if value is None and self._raw is not None:
                value = getattr(self._raw, name, None)
            if value is None:
                value = getattr(self, "_np_" + name, None)
            if value is None:
                raise BackendError(f"{self.__name__} has no {name}()")
            if name in self._MAKERS and self._device is not None:
                value = self._on_device(value)
        setattr(self, name, value)  # found once, then an ordinary attribute
        return value

    def __repr__(self) -> str:
        return f"<array namespace {self.__name__}>"

    # ---- NumPy's spellings, made of standard calls -------------------------------------------------
    def _on_device(self, make: Any) -> Any:
        device = self._device
        if self.__name__ == "cupy":  # CuPy makes arrays on the current device: make it this one
            def on_gpu(*args: Any, **kwargs: Any) -> Any:
                with device:
                    return make(*args, **kwargs)
            return on_gpu

        def on(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("device", device)
            return make(*args, **kwargs)
        return on

    def dtype_of(self, dtype: Any) -> Any:
        """The library's dtype for a NumPy one (the same object unless the library has dtypes of its own)."""
        if self._own_dtypes and isinstance(dtype, (xp.dtype, type)):
            return getattr(self._ns, xp.dtype(dtype).name)
        return dtype

    def _astype(self, x: Any, dtype: Any, copy: bool = True) -> Any:
        return self._ns.astype(x, self.dtype_of(dtype), copy=copy)

    def _any_dtype(self, fn: Any, name: str) -> Any:
        ns = self._ns

        def part(x: Any) -> Any:
            if np_dtype(x.dtype).kind == "c":
                return fn(x)
            return ns.zeros_like(x) if name == "imag" else x  # a real x's parts: x and 0; conj(x) is x
        return part

    def _np_fmod(self, x: Any, y: Any) -> Any:
        # C's remainder (x's sign) from the standard's (y's sign); both exact, and so is r - y
        r = self.remainder(x, y)
        return self.where((r != 0) & ((r < 0) != (x < 0)), r - y, r)

    def _np_angle(self, x: Any) -> Any:
        if np_dtype(x.dtype).kind == "c":
            return self.atan2(self._ns.imag(x), self._ns.real(x))
        return self.atan2(self.zeros_like(x), x)

    def _np_swapaxes(self, x: Any, a: int, b: int) -> Any:
        perm = list(range(x.ndim))
        perm[a], perm[b] = perm[b], perm[a]
        return self.permute_dims(x, tuple(perm))


_NAMESPACES: dict[Any, Namespace] = {}


def device(value: Any) -> Any:
    """The device ``value`` lives on (array-api-compat's answer; None for NumPy and Dask)."""
    if isinstance(value, (xp.ndarray, xp.generic)) or library(value) == "dask":
        return None
    import array_api_compat
    return array_api_compat.device(value)


def namespace(value: Any) -> Namespace:
    """The namespace kernels use for ``value``'s library and device (made once for each)."""
    import array_api_compat  # a dependency, imported only once a non-NumPy array appears

    ns = array_api_compat.array_namespace(value)
    dev = device(value)
    try:
        key = (ns, dev, hash(dev))
    except TypeError:  # a device object that is not hashable: told apart by its number
        key = (ns, type(dev), getattr(dev, "id", id(dev)))
    found = _NAMESPACES.get(key)
    if found is None:
        raw = None
        lib = library(value)
        if lib in ("dask", "cupy"):  # NumPy-style names (add.at, logaddexp, ...) the standard lacks
            import importlib
            raw = importlib.import_module("dask.array" if lib == "dask" else "cupy")
        found = _NAMESPACES[key] = Namespace(lib, ns, raw, dev)
        INEXACT.update(d for d in (getattr(ns, n, None) for n in ("float16", "float32", "float64", "complex64",
                                                                  "complex128")) if d is not None)
    return found


def common_namespace(values: list) -> Namespace:
    """The one non-NumPy library among ``values`` (NumPy values join it, on its device, as NumPy and Dask mix)."""
    found = None
    first = None
    for v in values:
        if is_foreign(v):
            ns = namespace(v)
            if found is not None and ns is not found:
                if ns._ns is found._ns:
                    raise ValueError(f"an op cannot mix arrays on two devices ({found._device} and {ns._device}); "
                                     f"move one first (e.g. x.to_device(...), cupy.asarray under the other device)")
                raise TypeError(f"an op cannot mix {library(first)} and {library(v)} arrays; move one to the "
                                f"other's library first (e.g. dask.array.from_array, cupy.asarray)")
            found, first = ns, v
    if found is None:
        raise TypeError("common_namespace() needs a non-NumPy array")
    return found


# ---- kernels bound to another namespace ---------------------------------------------------------
_BOUND: dict[tuple, Any] = {}


def _kernel_module(value: Any) -> bool:
    return isinstance(value, types.ModuleType) and getattr(value, "xp", None) is xp and \
        value.__name__.startswith("tapegrad.")


class _ModuleView:
    """A kernel module seen from another namespace: its functions rebound on first use."""

    def __init__(self, module: types.ModuleType, ns: Namespace) -> None:
        self._module = module
        self._ns = ns

    def __getattr__(self, name: str) -> Any:
        value = _bound_value(getattr(self._module, name), self._ns)
        setattr(self, name, value)
        return value


def _bound_value(value: Any, ns: Namespace) -> Any:
    if isinstance(value, types.FunctionType) and value.__module__ and value.__module__.startswith("tapegrad."):
        return forward_in(value, ns)
    if _kernel_module(value):
        return _ModuleView(value, ns)
    return value


class _Globals(dict):
    """A module's globals with ``xp`` bound to another namespace and its kernels rebound, looked up lazily."""

    def __init__(self, original: dict, ns: Namespace) -> None:
        super().__init__()
        self._original = original
        self._ns = ns

    def __missing__(self, key: str) -> Any:
        if key == "xp":
            value = self._ns
        else:
            value = _bound_value(self._original[key], self._ns)  # KeyError: the builtins are tried next
        self[key] = value
        return value


def forward_in(fn: Any, ns: Namespace) -> Any:
    """``fn`` (a forward kernel) for arrays of ``ns``'s library: a NumPy function by name, tapegrad's
    own kernel code with ``xp`` bound to ``ns``, anything else (``operator.add``) as it is."""
    key = (fn, ns)
    bound = _BOUND.get(key)
    if bound is not None:
        return bound
    if isinstance(fn, xp.ufunc) or (getattr(fn, "__module__", None) or "").startswith("numpy"):
        bound = getattr(ns, fn.__name__)
    elif isinstance(fn, types.FunctionType) and (fn.__module__ or "").startswith("tapegrad."):
        bound = types.FunctionType(fn.__code__, _globals(fn.__globals__, ns), fn.__name__, fn.__defaults__,
                                   fn.__closure__)
        bound.__kwdefaults__ = fn.__kwdefaults__
    else:
        bound = fn
    _BOUND[key] = bound
    return bound


def _globals(original: dict, ns: Namespace) -> dict:
    key = (id(original), ns)
    found = _BOUND.get(key)
    if found is None:
        found = _BOUND[key] = _Globals(original, ns)
        found["__builtins__"] = original.get("__builtins__", __builtins__)
    return found


def full_like(value: Any, fill: Any, dtype: Any = None) -> Any:
    """An array of ``value``'s shape, library and device filled with ``fill`` (``dtype``: a NumPy dtype or None)."""
    ns = namespace(value)
    return ns.full_like(value, fill, dtype=None if dtype is None else ns.dtype_of(dtype))


def to_numpy(value: Any) -> Any:
    """A NumPy array of ``value``'s data: a Dask array is computed, a GPU array copied to the host."""
    if isinstance(value, (xp.ndarray, xp.generic)):
        return value
    if hasattr(value, "compute"):  # Dask
        return xp.asarray(value.compute())
    if hasattr(value, "get") and library(value) == "cupy":
        return value.get()
    try:
        return xp.from_dlpack(value)
    except (TypeError, RuntimeError, BufferError, AttributeError):
        return xp.asarray(value)


def np_dtype(dtype: Any) -> Any:
    """The NumPy dtype of any library's dtype (Dask's and CuPy's are NumPy's; others by name)."""
    if isinstance(dtype, xp.dtype):
        return dtype
    try:
        return xp.dtype(dtype)
    except TypeError:
        return xp.dtype(str(dtype).rsplit(".", 1)[-1])
