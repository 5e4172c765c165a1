"""minimize's fused steps (descent.fused): the same run as the ordinary loop, bit for bit, however it ends."""
import os
import time

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.descent import fused as F
from tapegrad.descent import loop as L
from tapegrad.descent.problem import CompiledProblem
from tests.optional import HealthCheck, given, settings, st

O = tg.optimizers


def same_run(a, b):
    """Everything a run reports, bit for bit, but the wall-clock column."""
    assert (a.status, a.reason, a.message, a.steps, a.nfev) == (b.status, b.reason, b.message, b.steps, b.nfev)
    assert (a.compiled, a.compile_reason) == (b.compiled, b.compile_reason)
    assert a.history.columns == b.history.columns and len(a.history) == len(b.history)
    for col in b.history.columns:
        if col != "elapsed":
            x, y = np.asarray(a.history[col]), np.asarray(b.history[col])
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), col
    for got, want in ((a.x, b.x), (a.grad, b.grad), (a.fun, b.fun)):
        for p, q in zip(tg.nest.flatten(got) if isinstance(got, dict) else [got],
                        tg.nest.flatten(want) if isinstance(want, dict) else [want]):
            p, q = np.asarray(p), np.asarray(q)
            assert p.dtype == q.dtype and p.tobytes() == q.tobytes()
    assert np.asarray(a.optimizer.iterations.numpy()).tobytes() == np.asarray(b.optimizer.iterations.numpy()).tobytes()
    assert np.diff(a.history["elapsed"]).min(initial=0.0) >= 0


class Spy:
    """Counts the chunks that were taken (run returned rows) while patched into Fused.run."""

    def __init__(self):
        self.rows, self.chunks, self.ranges = 0, 0, []
        self.run = F.Fused.run

    def __call__(self, fused, k0, *args):
        done = self.run(fused, k0, *args)
        if done is not None:
            self.chunks += 1
            self.rows += done[0]
            self.ranges.append((k0, k0 + done[0]))
        return done

    def method(self):
        return lambda fused, *args: self(fused, *args)


def fused_and_ordinary(fn, x0, chunk=None, **kwargs):
    """The run with fused steps, and with the ordinary loop only; and the spy that counted the chunks."""
    saved, spy = (F.ENABLED, F.FIRST_CHUNK, F.MAX_CHUNK, F.Fused.run), Spy()
    try:
        if chunk is not None:
            F.FIRST_CHUNK, F.MAX_CHUNK = chunk
        F.Fused.run = spy.method()
        a = tg.minimize(fn, x0, **kwargs)
        F.ENABLED = False
        b = tg.minimize(fn, x0, **kwargs)
    finally:
        F.ENABLED, F.FIRST_CHUNK, F.MAX_CHUNK, F.Fused.run = saved
    return a, b, spy


def test_the_seed_descent_runs_fused_and_equals_the_ordinary_loop():
    a, b, spy = fused_and_ordinary(lambda w: w ** 2, 1.0, learning_rate=0.01, steps=5000, progress=False)
    same_run(a, b)
    assert a.compiled and a.status == "max_steps" and spy.rows == 5000 - 2  # rows 0, 1: the trace, its check
    assert spy.chunks < 10  # chunks grow to MAX_CHUNK


_TERMS = (
    lambda p: (p[0] - 1.5) ** 2,
    lambda p: p[0] ** 4 * 0.25 - p[0] ** 2,
    lambda p: tg.sin(3.0 * p[0]) + 0.1 * p[0] ** 2,
    lambda p: tg.exp(-p[0] * p[0]) * 2.0,
    lambda p: (p[0] * p[-1] - 1.0) ** 2,
    lambda p: 100.0 * (p[-1] - p[0] ** 2) ** 2 + (1.0 - p[0]) ** 2,
    lambda p: p[0] ** 3,  # no minimum: falls without bound, or overflows
    lambda p: tg.math.log(p[0] * p[0] + 1e-3),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.integers(0, len(_TERMS) - 1), min_size=1, max_size=3, unique=True),
       n=st.integers(1, 3), unused=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       start=st.lists(st.floats(-2.0, 2.0, width=32) | st.sampled_from([0.0, -0.0, 1.0]), min_size=3, max_size=3),
       lr=st.sampled_from([0.0, 1e-3, 0.01, 0.05, 0.2, 0.7, 3.0]), steps=st.integers(0, 12) | st.integers(60, 400),
       gtol=st.none() | st.sampled_from([1e-6, 1e-3, 0.1]), ftol=st.none() | st.sampled_from([0.0, 1e-9, 1e-6]),
       record=st.booleans(), compile=st.sampled_from(["auto", True]),
       chunk=st.sampled_from([None, (8, 8), (8, 32), (16, 1024)]))
def test_fused_equals_the_ordinary_loop_bit_for_bit(picks, n, unused, dtype, start, lr, steps, gtol, ftol, record,
                                                     compile, chunk):
    """Random programs of 1-3 scalars, run to the step count, to gtol/ftol, or to NaN, inf or without bound."""
    terms = tuple(_TERMS[i] for i in picks)  # a tuple: a closure list would keep the run eager
    names = "abc"[:n]
    used = names[:-1] if unused and n > 1 else names

    def fn(p):
        leaves = tuple(p[k] for k in used)
        total = terms[0](leaves)
        for t in terms[1:]:
            total = total + t(leaves)
        return total

    x0 = {k: dtype(v) for k, v in zip(names, start)}
    a, b, _ = fused_and_ordinary(fn, x0, chunk, optimizer="sgd", learning_rate=lr, steps=steps, gtol=gtol, ftol=ftol,
                                 record=record, compile=compile, progress=False)
    same_run(a, b)
    assert a.compiled or not a.steps


@pytest.mark.parametrize("lr", [1.1, 1.5, 40.0])
def test_a_diverging_run_stops_with_its_history_as_the_ordinary_loop_does(lr):
    # |w| grows 1.2 times a step at lr 1.1: the loss overflows float32 near step 240, in the third chunk
    a, b, spy = fused_and_ordinary(lambda w: w ** 2, 1.0, learning_rate=lr, steps=1000, progress=False)
    same_run(a, b)
    assert a.status == "diverged" and np.isfinite(a.x) and len(a.history) == a.steps + 1
    assert lr != 1.1 or spy.chunks >= 2


def test_stops_mid_chunk_are_found_at_their_step():
    f = lambda w: (w - 2.0) ** 2  # noqa: E731
    for kwargs in ({"gtol": 1e-3}, {"ftol": 1e-7}, {"gtol": 0.5}):
        a, b, spy = fused_and_ordinary(f, np.float64(0.0), learning_rate=0.01, steps=3000, progress=False, **kwargs)
        same_run(a, b)
        assert a.status == "converged" and 2 < a.steps < 3000 and spy.chunks >= 1


def test_a_parameter_the_loss_does_not_reach_and_a_growing_history():
    saved = L.HISTORY_CHUNK
    L.HISTORY_CHUNK = 50  # the buffer doubles several times under fused rows
    try:
        a, b, spy = fused_and_ordinary(lambda p: (p["a"] - 2.0) ** 2, {"a": np.float64(0.0), "b": np.float64(3.0)},
                                       learning_rate=0.1, steps=700, progress=False)
    finally:
        L.HISTORY_CHUNK = saved
    same_run(a, b)
    assert spy.rows and a.grad["b"] == 0 and a.x["b"] == 3.0


@pytest.mark.parametrize("optimizer", [O.SGD(0.01, momentum=0.9), O.Adam(0.01), O.SGD(0.01, clipnorm=1.0),
                                       O.SGD(O.schedules.ExponentialDecay(0.01, 10, 0.9)),
                                       O.SGD(0.01, weight_decay=0.1), "lbfgs"])
def test_other_optimizers_keep_the_ordinary_loop(optimizer):
    a, b, spy = fused_and_ordinary(lambda w: w ** 2, np.float64(1.0), optimizer=optimizer, steps=200, progress=False)
    assert spy.chunks == 0 and a.compiled


class Pushy(O.SGD):
    def _step(self, problem, loss, grads):
        return super()._step(problem, loss, grads)


@pytest.mark.parametrize("kwargs", [{"callbacks": lambda info: None}, {"target": -1.0}, {"record": "state"},
                                    {"optimizer": Pushy(0.01)}, {"compile": False}, {"patience": 5000},
                                    {"max_time": 100.0}])
def test_callbacks_other_rules_state_and_subclasses_keep_the_ordinary_loop(kwargs):
    kwargs = {"optimizer": "sgd", **kwargs}
    kwargs["learning_rate"] = 0.01 if kwargs["optimizer"] == "sgd" else None
    a, b, spy = fused_and_ordinary(lambda w: w ** 2, np.float64(1.0), steps=200, progress=False, **kwargs)
    assert spy.chunks == 0
    a, b, spy = fused_and_ordinary(lambda w: tg.reduce_sum(w ** 2), np.ones(3), optimizer="sgd", steps=200,
                                   progress=False)
    assert spy.chunks == 0  # array parameters


# ---- Ctrl-C and errors inside a chunk ---------------------------------------------------------------------------

class Raising(list):
    """A chunk's column that raises ``error`` when its row ``at`` is written."""

    def __init__(self, n, at, error):
        super().__init__([None] * n)
        self.at, self.error = at, error

    def __setitem__(self, i, value):
        if i == self.at:
            raise self.error
        super().__setitem__(i, value)


def raise_in(monkeypatch, chunk, column, row, error):
    """Make chunk number ``chunk`` raise while writing ``column`` (0 the loss, then gradients, then parameters)
    of its row ``row``."""
    calls = []

    def slots(n):
        calls.append(n)
        per = 3  # one parameter: loss, gradient, value
        i = len(calls) - 1
        if i // per == chunk and i % per == column:
            return Raising(n, row, error)
        return [None] * n
    monkeypatch.setattr(F, "_slots", slots)


def interrupted_at(monkeypatch, evaluation, fn, x0, **kwargs):
    """The ordinary loop's run with Ctrl-C during evaluation number ``evaluation`` (row ``evaluation``)."""
    original, seen = CompiledProblem.value_and_grad, []

    def value_and_grad(self):
        if len(seen) == evaluation:
            raise KeyboardInterrupt
        seen.append(1)
        return original(self)
    with monkeypatch.context() as m:
        m.setattr(CompiledProblem, "value_and_grad", value_and_grad)
        m.setattr(F, "ENABLED", False)
        return tg.minimize(fn, x0, **kwargs)


SEED = {"learning_rate": 0.01, "steps": 5000, "progress": False}


@pytest.mark.parametrize("column", [0, 1, 2])
@pytest.mark.parametrize("chunk, row", [(0, 0), (0, 1), (0, 37), (1, 100), (2, 0)])
def test_ctrl_c_in_a_chunk_keeps_every_complete_row_as_a_ctrl_c_at_the_next_evaluation(monkeypatch, chunk, row,
                                                                                        column):
    start = 2 + F.FIRST_CHUNK * (2 ** chunk - 1)  # chunk sizes double from FIRST_CHUNK, from row 2
    raise_in(monkeypatch, chunk, column, row, KeyboardInterrupt())
    a = tg.minimize(lambda w: w ** 2, 1.0, **SEED)
    monkeypatch.undo()
    b = interrupted_at(monkeypatch, start + row, lambda w: w ** 2, 1.0, **SEED)
    assert a.status == "interrupted" and a.reason == "ctrl_c" and len(a.history) == start + row
    same_run(a, b)


def test_ctrl_c_after_a_row_that_stops_the_run_gives_that_stop(monkeypatch):
    f, kwargs = (lambda w: (w - 2.0) ** 2), {"learning_rate": 0.05, "steps": 5000, "progress": False, "gtol": 0.5}
    F.ENABLED = False
    try:
        b = tg.minimize(f, np.float64(0.0), **kwargs)
    finally:
        F.ENABLED = True
    assert 2 < b.steps < 2 + F.FIRST_CHUNK  # converges inside the first chunk
    raise_in(monkeypatch, 0, 2, b.steps + 5, KeyboardInterrupt())  # the Ctrl-C comes after that row
    a = tg.minimize(f, np.float64(0.0), **kwargs)
    same_run(a, b)
    raise_in(monkeypatch, 0, 1, b.steps - 5, KeyboardInterrupt())  # before it: interrupted there
    a = tg.minimize(f, np.float64(0.0), **kwargs)
    monkeypatch.undo()
    same_run(a, interrupted_at(monkeypatch, b.steps - 3, f, np.float64(0.0), **kwargs))


def test_ctrl_c_while_a_chunk_is_checked_ends_the_run_where_the_chunk_began(monkeypatch):
    def rows(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(F, "_rows", rows)
    a = tg.minimize(lambda w: w ** 2, 1.0, **SEED)
    monkeypatch.undo()
    same_run(a, interrupted_at(monkeypatch, 2, lambda w: w ** 2, 1.0, **SEED))


@pytest.mark.parametrize("chunk, column, row", [(0, 0, 5), (1, 2, 0), (1, 1, 127)])
def test_an_error_in_a_chunk_reruns_it_in_the_ordinary_loop(monkeypatch, chunk, column, row):
    raise_in(monkeypatch, chunk, column, row, RuntimeError("lost"))
    spy = Spy()
    monkeypatch.setattr(F.Fused, "run", spy.method())
    a = tg.minimize(lambda w: w ** 2, 1.0, **SEED)
    monkeypatch.undo()
    monkeypatch.setattr(F, "ENABLED", False)
    same_run(a, tg.minimize(lambda w: w ** 2, 1.0, **SEED))
    assert spy.chunks >= 3  # fused again after the chunk that failed


def test_the_progress_display_gets_the_ordinary_loops_updates(monkeypatch):
    class Bar:
        def __init__(self):
            self.calls = []

        def show(self, k, loss, gnorm):
            self.calls.append(("show", k, loss, gnorm))

        def close(self, k, loss, gnorm):
            self.calls.append(("close", k, loss, gnorm))

    bars = []

    def progress_bar(progress, steps):
        bars.append(Bar())
        return bars[-1]
    monkeypatch.setattr(L, "progress_bar", progress_bar)
    for steps in (1000, 77):
        fused_and_ordinary(lambda w: (w - 1.0) ** 2, 3.0, learning_rate=0.01, steps=steps, progress=True)
    for fused, ordinary in (bars[0:2], bars[2:4]):
        assert fused.calls == ordinary.calls and len(fused.calls) > 1


def test_the_fast_rate_is_the_one_keras_optimizers_step_by():
    opt = O.SGD(0.25)
    assert F._plain_rate(opt) == 0.25 and F._plain_rate(O.SGD(0.25, nesterov=True)) == 0.25
    opt.learning_rate = lambda: 0.1
    assert F._plain_rate(opt) is None and F._plain_rate(O.Adam()) is None
    assert F._plain_rate(Pushy()) is None and F._plain_rate(O.TransformOptimizer(O.sgd(0.1))) is None


# ---- the compile guard, checked once per chunk ------------------------------------------------------------------

_scale = 1.0


def _scaled(w):
    return _scale * (w - 3.0) ** 2


@pytest.mark.parametrize("changes", [1, 3])
def test_python_state_changed_between_chunks_is_seen_by_the_next_chunk_as_by_the_next_step(monkeypatch, changes):
    """Within a chunk no Python code but the generated loop runs; between chunks, the progress display does. A
    display that rebinds a global fn reads (after a chunk) acts as a callback at the chunk's last step does in
    the ordinary loop: fn is traced again at the next evaluation, and the run goes on fused."""
    global _scale
    shown = []

    class Bar:
        def show(self, k, loss, gnorm):
            global _scale
            if len(shown) < changes and k % 128 == 64:
                shown.append(k)
                _scale *= 1.25

        def close(self, k, loss, gnorm):
            pass
    spy = Spy()
    monkeypatch.setattr(L, "progress_bar", lambda progress, n: Bar())
    monkeypatch.setattr(F.Fused, "run", spy.method())
    _scale = 1.0
    a = tg.minimize(_scaled, np.float64(0.0), learning_rate=0.001, steps=1000, progress=True)
    monkeypatch.undo()
    last_rows = {end - 1 for start, end in spy.ranges for k in shown if start < k <= end}
    assert len(last_rows) == changes

    def callback(info):
        global _scale
        if info.step in last_rows:
            _scale *= 1.25
    _scale = 1.0
    b = tg.minimize(_scaled, np.float64(0.0), learning_rate=0.001, steps=1000, callbacks=callback, progress=False)
    _scale = 1.0
    same_run(a, b)
    assert a.compiled and f"traced again {changes} time(s)" in a.compile_reason and spy.ranges[-1][1] > 900


def test_a_sigint_in_a_chunk_waits_for_the_chunk_and_then_stops_the_run_with_whole_rows():
    # A real Ctrl-C lands wherever it lands: inside the generated loop, between a chunk's row writes, or in the
    # loop's bookkeeping after it. It must stop the run as a Ctrl-C at an evaluation does: contiguous steps,
    # the last row the run's last point (no step taken from it), the parameters at that row.
    import signal
    import threading
    for delay in (0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.008, 0.013, 0.021, 0.034):
        timer = threading.Timer(delay + 0.05, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            r = tg.minimize(lambda p: p[0] ** 2 + p[1] ** 2, [1.0, 1.0], learning_rate=1e-9, steps=10**8,
                            progress=False)
        finally:
            timer.cancel()
        h = r.history
        assert r.reason == "ctrl_c"
        assert list(h["step"]) == list(range(len(h)))
        assert np.isnan(h["lr"][-1]) and not np.isnan(h["lr"][:-1]).any()
        np.testing.assert_array_equal(np.asarray(r.x), [h["x0"][-1], h["x1"][-1]])


def test_sigint_deferred_holds_a_ctrl_c_until_the_block_ends():
    import signal
    with F.sigint_deferred() as pending:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # (the handler runs between bytecodes)
    assert pending and signal.getsignal(signal.SIGINT) is signal.default_int_handler
