"""Errors users see. Every message says what was wrong and what to do."""


class TapegradError(Exception):
    """Base class of tapegrad's own errors."""


class InvalidArgumentError(TapegradError, ValueError):
    """An operation got arguments it cannot work with (TensorFlow's name)."""


class DTypeError(InvalidArgumentError, TypeError):
    """Operands have dtypes that cannot be combined; cast one of them."""


class NotDifferentiableError(TapegradError, LookupError):
    """A gradient was asked of something with no gradient rule."""
