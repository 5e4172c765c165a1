"""A safe parser for math expressions typed by a user, such as ``(1-x)**2 + 100*(y-x**2)**2``.

The text is parsed with ``ast.parse(mode="eval")`` and turned into tapegrad operations by
walking a whitelist: numbers, names, ``+ - * / **``, unary minus, parentheses and calls of
the functions in ``FUNCTIONS``. Nothing is ever passed to ``eval``, ``exec`` or ``compile``;
every other construct is refused with an ``ExpressionError`` that points at the offending
part. All arithmetic is done in float64 (constants are folded once, at parse time), so no
input can make Python compute a huge integer: ``9**9**9`` is refused as an overflow.

>>> import numpy as np
>>> from tapegrad.cli.expr import parse
>>> f = parse("x**2 + b**2")
>>> f.variables
('x', 'b')
>>> f({"x": np.float64(20.0), "b": np.float64(10.0)}).numpy()
np.float64(500.0)
"""
from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tapegrad import ops
from tapegrad._core.tensor import Operand, Tensor, wrap

__all__ = ["CONSTANTS", "FUNCTIONS", "syntax", "MAX_CHARS", "MAX_DEPTH", "MAX_NODES", "Expression", "ExpressionError",
           "parse"]

MAX_CHARS = 2000  # longer input is refused before parsing
MAX_NODES = 1000  # numbers, names, operators and calls
MAX_DEPTH = 200  # nesting of operators and calls (a + b + c is two levels): keeps recursion well inside Python's

# name -> (tapegrad op, number of arguments)
FUNCTIONS: dict[str, tuple[Callable[..., Tensor], int]] = {
    "abs": (ops.abs, 1), "acos": (ops.acos, 1), "asin": (ops.asin, 1), "atan": (ops.atan, 1),
    "cos": (ops.cos, 1), "cosh": (ops.cosh, 1), "exp": (ops.exp, 1), "expm1": (ops.expm1, 1),
    "log": (ops.log, 1), "log1p": (ops.log1p, 1), "maximum": (ops.maximum, 2), "minimum": (ops.minimum, 2),
    "pow": (ops.pow, 2), "relu": (ops.relu, 1), "rsqrt": (ops.rsqrt, 1), "sigmoid": (ops.sigmoid, 1),
    "sin": (ops.sin, 1), "sinh": (ops.sinh, 1), "softplus": (ops.softplus, 1), "sqrt": (ops.sqrt, 1),
    "square": (ops.square, 1), "tan": (ops.tan, 1), "tanh": (ops.tanh, 1),
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def syntax(option: str) -> str:
    """What an expression may contain, for the commands' --help: the functions listed from ``FUNCTIONS``.

    >>> from tapegrad.cli.expr import syntax
    >>> syntax("--at").splitlines()[0]
    'EXPR uses numbers, the variables named in --at, + - * / **, parentheses and the'
    """
    import textwrap

    text = (f"EXPR uses numbers, the variables named in {option}, + - * / **, parentheses and the functions "
            f"{' '.join(sorted(FUNCTIONS))}; {' and '.join(CONSTANTS)} are constants.")
    return textwrap.fill(text, 84)

# ** is handled on its own: it binds to the right, the others chain to the left.
_BINARY: dict[type, Callable[..., Tensor]] = {
    ast.Add: ops.add, ast.Sub: ops.subtract, ast.Mult: ops.multiply, ast.Div: ops.divide}
_OTHER_OPERATORS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
                    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~"}
_ALLOWED = "numbers, variables, + - * / **, parentheses and functions such as sin(x)"
_REFUSED: dict[type, str] = {
    ast.Attribute: "attribute access (.{attr}) is not allowed",
    ast.Subscript: "indexing and slicing ([...]) are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed", ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed", ast.GeneratorExp: "generator expressions are not allowed",
    ast.Compare: "comparisons (<, ==, ...) are not supported",
    ast.BoolOp: "'and' / 'or' are not supported",
    ast.IfExp: "conditional expressions (a if c else b) are not supported; maximum, minimum, abs and relu "
               "cover most uses",
    ast.List: "lists are not allowed", ast.Tuple: "tuples are not allowed (a stray comma?)",
    ast.Set: "sets are not allowed", ast.Dict: "dicts are not allowed",
    ast.JoinedStr: "strings are not allowed", ast.FormattedValue: "strings are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed", ast.Starred: "unpacking (*) is not allowed",
    ast.Await: "await is not allowed", ast.Yield: "yield is not allowed", ast.YieldFrom: "yield is not allowed",
}

Value = Any  # np.float64 (a folded constant) or a function of the variables' values returning an Operand


class ExpressionError(ValueError):
    """An expression that was refused: what is wrong, and where (a caret under the offending part).

    ``message`` is the reason alone; ``str(error)`` adds the line of the expression with the caret.

    >>> from tapegrad.cli.expr import parse, ExpressionError
    >>> try:
    ...     parse("x // 2")
    ... except ExpressionError as e:
    ...     print(e)
    the operator // is not supported; the operators are + - * / **
      x // 2
        ^^
    """

    def __init__(self, message: str, text: str = "", start: int | None = None, end: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.start = start  # character offsets into text
        self.end = end

    def __str__(self) -> str:
        if self.start is None or not self.text:
            return self.message
        return self.message + "\n" + _excerpt(self.text, self.start, self.end)


def _excerpt(text: str, start: int, end: int | None) -> str:
    """The line holding ``start``, cut to a window around it, with carets under [start, end)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end]
    col = start - line_start
    width = max(1, min(end if end is not None else start + 1, line_end) - start)
    where = f"  (line {text.count(chr(10), 0, start) + 1})" if "\n" in text.strip() else ""
    cut = max(0, col - 40)
    shown = line[cut:cut + 80]
    col -= cut
    width = min(width, max(1, len(shown) - col))
    # Control characters (an escape sequence in a terminal) are shown as '?', one column each.
    shown = "".join(c if c.isprintable() else "?" for c in shown)
    return f"  {'...' if cut else ''}{shown}{where}\n  {' ' * (col + (3 if cut else 0))}{'^' * width}"


class Expression:
    """A parsed expression: call it with a mapping from variable names to values to evaluate it.

    Values may be numbers, arrays, Tensors or Variables; the result is a Tensor made of
    tapegrad operations, so a GradientTape around the call differentiates it.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> from tapegrad.cli.expr import parse
    >>> f = parse("sin(x) * y")
    >>> x, y = tg.Variable(np.float64(0.0)), tg.Variable(np.float64(3.0))
    >>> with tg.GradientTape() as tape:
    ...     z = f({"x": x, "y": y})
    >>> [float(g) for g in tape.gradient(z, [x, y])]
    [3.0, 0.0]
    """

    __slots__ = ("text", "variables", "size", "_run", "_where")

    def __init__(self, text: str, variables: tuple[str, ...], run: Value, where: dict[str, tuple[int, int]],
                 size: int = 0) -> None:
        self.text = text
        self.variables = variables  # names used, in order of first appearance
        self.size = size  # numbers, names, operators and calls, as MAX_NODES counts them: the cost of one pass
        self._run = run
        self._where = where  # name -> (start, end) of its first use

    def __call__(self, values: Mapping[str, Any]) -> Tensor:
        for name in self.variables:
            if name not in values:
                start, end = self._where[name]
                raise ExpressionError(f"no value was given for the variable {name!r}", self.text, start, end)
        if not callable(self._run):
            return wrap(np.asarray(self._run))
        # Plain numbers are computed in float64 (not TensorFlow's float32 for Python floats).
        env = {n: v if isinstance(v, Operand) else _float_array(v) for n, v in
               ((n, values[n]) for n in self.variables)}
        out = self._run(env)
        return out if type(out) is Tensor else ops.identity(out)  # "x" alone: a Tensor, not the Variable

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def _float_array(value: Any) -> Any:
    arr = np.asarray(value)
    return arr if arr.dtype.kind in "fc" else arr.astype(np.float64)


def parse(text: str, variables: Any = None) -> Expression:
    """Parse ``text`` into an ``Expression``, or raise ``ExpressionError`` saying what is wrong and where.

    ``variables``: the names the expression may use (an iterable of strings); None allows
    any name that is not a function or constant.

    >>> from tapegrad.cli.expr import parse
    >>> parse("(1-x)**2 + 100*(y-x**2)**2").variables
    ('x', 'y')
    >>> parse("9**9**9")
    Traceback (most recent call last):
    ...
    tapegrad.cli.expr.ExpressionError: 9**9**9 is too large for float64 (it evaluates to inf)
      9**9**9
      ^^^^^^^
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text (str), not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_CHARS}", text,
                              MAX_CHARS, len(text))
    # Python reads \r\n and \r as line ends; make them \n without moving any character, so positions hold.
    text = text.replace("\r\n", " \n").replace("\r", "\n")
    allowed = None if variables is None else tuple(variables)
    if allowed is not None:
        for name in allowed:
            _check_variable_name(name)
    body = text.lstrip()
    shift = len(text) - len(body)  # Python refuses leading whitespace ("unexpected indent")
    if not body:
        raise ExpressionError("the expression is empty; write one such as x**2 + 1")
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning "invalid decimal literal": the error says it better
            warnings.simplefilter("ignore")
            tree = ast.parse(body, mode="eval")
    except SyntaxError as e:
        raise _syntax_error(e, text, body, shift) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"the expression is nested too deeply (the limit is {MAX_DEPTH} levels)") from None
    except ValueError as e:  # e.g. NUL characters on older Pythons
        raise ExpressionError(f"the expression cannot be read: {e}") from None
    return _Compiler(text, body, shift, allowed).compile(tree.body)


def _check_variable_name(name: Any) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise ExpressionError(f"{name!r} cannot be a variable name; use letters, digits and _ (x, w0, theta_1)")
    if name.startswith("__"):
        raise ExpressionError(f"{name!r} cannot be a variable name: names beginning with __ are reserved")
    if name in FUNCTIONS:
        raise ExpressionError(f"{name!r} is the name of a function; choose another variable name")
    if name in CONSTANTS:
        raise ExpressionError(f"{name!r} is the constant {CONSTANTS[name]!r}; choose another variable name")


def _syntax_error(e: SyntaxError, text: str, body: str, shift: int) -> ExpressionError:
    reason = e.msg or "invalid syntax"
    if reason == "invalid syntax":
        reason = "this is not a valid expression"
    if e.lineno is None or e.offset is None or e.lineno < 1:
        return ExpressionError(f"{reason}", text, len(text) - 1 if text else None)
    lines = body.split("\n")
    line_index = min(e.lineno, len(lines)) - 1
    line_start = sum(len(s) + 1 for s in lines[:line_index])
    col = max(0, min(e.offset - 1, len(lines[line_index])))
    end_col = e.end_offset - 1 if e.end_offset and e.end_offset > e.offset and (e.end_lineno or e.lineno) == \
        e.lineno else col + 1
    start = shift + line_start + col
    return ExpressionError(reason, text, min(start, max(len(text) - 1, 0)), shift + line_start + end_col)


class _Compiler:
    """Walks the tree once, refusing what is not whitelisted, and builds closures that evaluate it."""

    def __init__(self, text: str, body: str, shift: int, allowed: tuple[str, ...] | None) -> None:
        self.text, self.allowed = text, allowed
        self.nodes = 0
        self.names: dict[str, tuple[int, int]] = {}
        # ast gives columns in UTF-8 bytes; positions in the text are in characters.
        self.line_starts = [shift]
        for line in body.split("\n")[:-1]:
            self.line_starts.append(self.line_starts[-1] + len(line) + 1)
        self.lines = body.split("\n")

    def compile(self, node: ast.AST) -> Expression:
        run = self.visit(node, 0)
        return Expression(self.text, tuple(self.names), run, self.names, self.nodes)

    # -- positions ------------------------------------------------------------------------------
    def _offset(self, lineno: int, byte_col: int) -> int:
        line = self.lines[lineno - 1]
        return self.line_starts[lineno - 1] + len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def span(self, node: Any) -> tuple[int, int]:
        start = self._offset(node.lineno, node.col_offset)
        end = self._offset(node.end_lineno, node.end_col_offset) if node.end_lineno == node.lineno else start + 1
        return start, end

    def error(self, message: str, node: Any) -> ExpressionError:
        return ExpressionError(message, self.text, *self.span(node))

    def source(self, node: Any) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    # -- the walk -------------------------------------------------------------------------------
    def visit(self, node: ast.AST, depth: int) -> Value:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(f"the expression is too large (more than {MAX_NODES} numbers, names and operators)",
                             node)
        if depth > MAX_DEPTH:
            raise self.error(f"the expression is nested too deeply (more than {MAX_DEPTH} levels of operators and "
                             "calls); split it into smaller parts", node)
        kind = type(node)
        if kind is ast.Constant:
            return self.constant(node)
        if kind is ast.Name:
            return self.name(node)
        if kind is ast.BinOp:
            return self.binary(node, depth)
        if kind is ast.UnaryOp:
            return self.unary(node, depth)
        if kind is ast.Call:
            return self.call(node, depth)
        why = _REFUSED.get(kind)
        if why is None:
            why = f"{kind.__name__} is not allowed"
        raise self.error(f"{why.format(attr=getattr(node, 'attr', ''))}; an expression may use only {_ALLOWED}",
                         node)

    def constant(self, node: ast.Constant) -> Value:
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise self.error(f"{v!r} is not a number; an expression may use only {_ALLOWED}", node)
        if isinstance(v, (str, bytes)):
            raise self.error(f"strings are not allowed; an expression may use only {_ALLOWED}", node)
        if isinstance(v, complex):
            raise self.error("complex numbers are not supported; use real numbers", node)
        try:
            value = np.float64(float(v))
        except OverflowError:
            value = np.float64(np.inf)
        if not np.isfinite(value):
            raise self.error(f"the number {self.source(node)} is too large for float64 (at most about 1.8e308)",
                             node)
        return value

    def name(self, node: ast.Name) -> Value:
        name = node.id
        if name in CONSTANTS:
            return np.float64(CONSTANTS[name])
        if name in FUNCTIONS:
            raise self.error(f"{name} is a function; call it with its argument in parentheses: {name}(...)", node)
        if name.startswith("__"):
            raise self.error(f"{name} is not allowed: names beginning with __ are reserved", node)
        if self.allowed == ():
            raise self.error(f"{name!r} is not a number; only numbers and the constants {', '.join(CONSTANTS)} "
                             "can be used here", node)
        if self.allowed is not None and name not in self.allowed:
            raise self.error(f"unknown name {name!r}: it is not one of the variables ({', '.join(self.allowed)}) nor a "
                             f"constant ({', '.join(CONSTANTS)}); give {name} a value too, or fix the spelling", node)
        self.names.setdefault(name, self.span(node))
        return lambda values: values[name]

    def binary(self, node: ast.BinOp, depth: int) -> Value:
        if isinstance(node.op, ast.Pow):
            return self.combine(ops.pow, (self.visit(node.left, depth + 1), self.visit(node.right, depth + 1)), node)
        # a + b - c * d ... leans left: walk the chain in a loop, so a long sum adds no nesting depth.
        chain = []
        while isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Pow):
            chain.append(node)
            node = node.left
        self.nodes += len(chain) - 1
        acc = self.visit(node, depth + 1)
        steps: list[tuple[Callable[..., Tensor], Value]] = []
        for link in reversed(chain):
            op = self.operator(link)
            right = self.visit(link.right, depth + 1)
            if steps or callable(acc) or callable(right):
                steps.append((op, right))
            else:
                acc = self.combine(op, (acc, right), link)
        if not steps:
            return acc

        def run(values: Mapping[str, Any]) -> Any:
            out = acc(values) if callable(acc) else acc
            for op, right in steps:
                out = op(out, right(values) if callable(right) else right)
            return out
        return run

    def operator(self, node: ast.BinOp) -> Callable[..., Tensor]:
        entry = _BINARY.get(type(node.op))
        if entry is None:
            symbol = _OTHER_OPERATORS.get(type(node.op), type(node.op).__name__)
            start, end = self._operator_span(node)
            raise ExpressionError(f"the operator {symbol} is not supported; the operators are + - * / **",
                                  self.text, start, end)
        return entry

    def unary(self, node: ast.UnaryOp, depth: int) -> Value:
        if isinstance(node.op, ast.UAdd):
            return self.visit(node.operand, depth + 1)
        if not isinstance(node.op, ast.USub):
            symbol = _OTHER_OPERATORS.get(type(node.op), type(node.op).__name__)
            raise self.error(f"the operator {symbol} is not supported; the operators are + - * / **", node)
        return self.combine(ops.negative, (self.visit(node.operand, depth + 1),), node)

    def call(self, node: ast.Call, depth: int) -> Value:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.error(f"only the named functions can be called ({', '.join(FUNCTIONS)})", func)
        name = func.id
        if name not in FUNCTIONS:
            if self.allowed is not None and name in self.allowed or name in CONSTANTS:
                raise self.error(f"{name} is not a function; to multiply, write {name}*(...)", func)
            raise self.error(f"unknown function {name!r}; the functions are {', '.join(FUNCTIONS)}", func)
        op, arity = FUNCTIONS[name]
        for kw in node.keywords:
            raise self.error(f"{name}() takes no keyword arguments; give its arguments by position", kw)
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.error("unpacking (*) is not allowed; give the arguments one by one", a)
        if len(node.args) != arity:
            noun = "argument" if arity == 1 else "arguments"
            raise self.error(f"{name}() takes {arity} {noun}, not {len(node.args)}", node)
        args = tuple(self.visit(a, depth + 1) for a in node.args)
        return self.combine(op, args, node)

    def combine(self, op: Callable[..., Tensor], args: tuple, node: ast.AST) -> Value:
        """The closure applying ``op`` to ``args``; constant arguments are computed now, once."""
        if not any(callable(a) for a in args):
            with np.errstate(all="ignore"):
                value = op(*(wrap(np.asarray(a)) for a in args)).numpy()
            if op is ops.divide and args[1] == 0:
                raise self.error(f"{self.source(node)} divides by zero", node)
            if not np.isfinite(value):
                what = "too large for float64" if np.isinf(value) else "not a real number"
                raise self.error(f"{self.source(node)} is {what} (it evaluates to {value})", node)
            return np.float64(value)
        if len(args) == 1:
            (f,) = args
            return lambda values: op(f(values))
        a, b = args
        if not callable(a):
            return lambda values: op(a, b(values))
        if not callable(b):
            return lambda values: op(a(values), b)
        return lambda values: op(a(values), b(values))

    def _operator_span(self, node: ast.BinOp) -> tuple[int, int]:
        """Where the operator symbol itself is, between the two operands."""
        _, left_end = self.span(node.left)
        right_start, _ = self.span(node.right)
        gap = self.text[left_end:right_start]
        symbol = _OTHER_OPERATORS.get(type(node.op), "")
        at = gap.find(symbol) if symbol else -1
        if at < 0:
            return self.span(node)
        return left_end + at, left_end + at + len(symbol)
