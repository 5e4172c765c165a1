"""``input_signature`` for ``tg.function``: check and convert the arguments as TensorFlow does.

Tensors and Variables must have the spec's dtype and fit its shape; other values (Python numbers,
lists, NumPy arrays) are converted to the spec's dtype first. Anything else is a TypeError, as in
TensorFlow. tapegrad still traces per concrete shape (a ``None`` dimension is not traced
symbolically), so answers never depend on which shapes came first.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tapegrad._core import nest
from tapegrad._core.spec import TensorSpec
from tapegrad._core.tensor import Operand, convert_to_tensor

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def check_signature(input_signature: Any) -> tuple:
    """The signature as a tuple, or a TypeError saying what is wrong with it."""
    if not isinstance(input_signature, (list, tuple)):
        raise TypeError(f"input_signature must be either a tuple or a list, got {type(input_signature)}.")
    bad = [s for s in nest.flatten(list(input_signature)) if not isinstance(s, TensorSpec)]
    if bad:
        raise TypeError(f"input_signature must be a possibly nested sequence of TensorSpec objects, got invalid "
                        f"args {bad} with types {[type(b) for b in bad]}.")
    return tuple(input_signature)


def bind(fn: Callable[..., Any], specs: tuple, args: tuple, kwargs: dict, skip: int) -> tuple:
    """The positional arguments the specs cover, checked and converted; ``skip`` leading parameters
    (a method's ``self``) are not covered."""
    name = getattr(fn, "__name__", "function")
    try:
        params = list(inspect.signature(fn).parameters.values())[skip:]
    except (TypeError, ValueError):  # a builtin without a signature: positions only
        params = []
    positional = [p for p in params if p.kind in _POSITIONAL]
    varargs = any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params) or not params
    n = len(specs)
    if n > len(positional) and not varargs:
        raise TypeError(f"{name}: input_signature has {n} entries but the function takes {len(positional)} "
                        "positional arguments")
    for p in positional[n:]:
        if p.default is inspect.Parameter.empty:
            raise TypeError(f"input_signature missing type constraint for {p.name}")
    if len(args) > n:
        raise TypeError(f"{name}: too many positional arguments: input_signature covers {n}, got {len(args)}")
    values = list(args)
    kwargs = dict(kwargs)
    for i in range(len(args), n):
        p = positional[i] if i < len(positional) else None
        if p is None or p.name not in kwargs:
            missing = p.name if p is not None else f"#{i}"
            raise TypeError(f"{name}: missing a required argument: {missing!r}")
        values.append(kwargs.pop(p.name))
    if kwargs:
        raise TypeError(f"{name}: arguments {sorted(kwargs)} are not in its input_signature; with an input_signature "
                        "every argument passed must have a TensorSpec (the others keep their defaults)")
    labels = [positional[i].name if i < len(positional) else f"#{i}" for i in range(n)]
    return tuple(_conform(v, s, label, name) for v, s, label in zip(values, specs, labels))


def _spec_of(x: Operand) -> str:
    return repr(TensorSpec(x._value.shape, x.dtype))


def _conform(value: Any, spec: Any, label: str, fname: str) -> Any:
    if isinstance(spec, TensorSpec):
        if isinstance(value, Operand):
            t = value
        else:
            try:
                t = convert_to_tensor(value, dtype=spec.dtype)
            except (TypeError, ValueError) as e:
                raise TypeError(f"{fname}: argument {label} = {value!r} does not fit its input_signature {spec!r}: "
                                f"{e}") from None
        if not spec.is_compatible_with(t):
            raise TypeError(f"{fname}: argument {label} is {_spec_of(t)}, which does not fit its input_signature "
                            f"{spec!r}; pass a tensor of that dtype and shape (tg.cast, tg.reshape)")
        return value if isinstance(value, Operand) else t
    if isinstance(spec, (list, tuple)):
        if type(value) is not type(spec) and not (isinstance(value, tuple) and isinstance(spec, tuple)):
            raise TypeError(f"{fname}: argument {label} is a {type(value).__name__}, but its input_signature is a "
                            f"{type(spec).__name__}: {spec!r}")
        if len(value) != len(spec):
            raise TypeError(f"{fname}: argument {label} has {len(value)} items, its input_signature {len(spec)}")
        items = [_conform(v, s, f"{label}[{i}]", fname) for i, (v, s) in enumerate(zip(value, spec))]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)  # a namedtuple
    if isinstance(spec, dict):
        if not isinstance(value, dict) or set(value) != set(spec):
            raise TypeError(f"{fname}: argument {label} must be a dict with keys {sorted(spec)}, like its "
                            f"input_signature")
        return {k: _conform(value[k], spec[k], f"{label}[{k!r}]", fname) for k in value}
    raise TypeError(f"{fname}: input_signature entry {spec!r} is not a TensorSpec")  # check_signature prevents it


def example(specs: Any) -> Any:
    """``specs`` with each TensorSpec replaced by zeros of its shape (to trace ``get_concrete_function``),
    or None if a spec has a dimension of any size: tapegrad traces concrete shapes only."""
    from tapegrad.ops import zeros

    leaves = nest.flatten(specs)
    if any(isinstance(s, TensorSpec) and (s.shape is None or None in s.shape) for s in leaves):
        return None
    return nest.pack_as(specs, [zeros(tuple(s.shape), dtype=s.dtype) if isinstance(s, TensorSpec) else s
                                for s in leaves])


def has_spec(args: Any) -> bool:
    return any(isinstance(s, TensorSpec) for s in nest.flatten(args))
