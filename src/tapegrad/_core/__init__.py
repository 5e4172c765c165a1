"""The engine: tensors, tapes, the record of one op, the backward walk. It names no operation."""
from . import dtypes, nest
from .backward import backward, reachable
from .errors import DTypeError, InvalidArgumentError, NotDifferentiableError, TapegradError
from .record import READ, REGISTRY, STATE, Primitive, TapeState, apply, read, record
from .tensor import Operand, Tensor, TensorShape, Variable, constant, convert_to_tensor, to_array, wrap

__all__ = [
    "READ", "REGISTRY", "STATE", "DTypeError", "InvalidArgumentError", "NotDifferentiableError", "Operand",
    "Primitive", "TapeState", "TapegradError", "Tensor", "TensorShape", "Variable", "apply", "backward",
    "constant", "convert_to_tensor", "dtypes", "nest", "reachable", "read", "record", "to_array", "wrap",
]
