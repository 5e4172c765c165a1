"""tg.minimize on Dask data: one pass over the chunks per evaluation, the same coefficients as NumPy.

The example (examples/dask_logistic.py) runs here at a small size with the threaded scheduler,
and once on a dask.distributed cluster in this process. Without dask the tests skip.
"""
from __future__ import annotations

import importlib.util
import pathlib
import threading

import numpy as np
import pytest

import tapegrad as tg
from tests.optional import has, needs

pytestmark = needs("dask")
EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "dask_logistic.py"
ROWS, COLS, CHUNKS = 20_000, 10, 4


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("dask_logistic", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def threads():
    import dask

    with dask.config.set(scheduler="threads"):
        yield


class Passes:
    """Counts graph executions (dask.compute calls) and chunk functions run, while active."""

    def __init__(self) -> None:
        from dask.callbacks import Callback

        self.computes = 0
        self.chunk_calls = 0
        self._lock = threading.Lock()
        counter = self

        class _Count(Callback):
            def _start(self, dsk):
                counter.computes += 1

        self._callback = _Count()

    def chunk_done(self) -> None:
        with self._lock:  # chunks run on the scheduler's threads
            self.chunk_calls += 1

    def __enter__(self) -> Passes:
        self._callback.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._callback.__exit__(*exc)


def counted_data(passes: Passes, rows: int = ROWS, cols: int = COLS, chunks: int = CHUNKS):
    """(X, y) as Dask arrays whose chunk function counts its calls: a pass runs it once per chunk."""
    import dask.array as da

    base = np.random.default_rng(7).standard_normal((rows, cols))
    labels = (base @ np.linspace(-1, 1, cols) + np.random.default_rng(8).standard_normal(rows) > 0).astype(float)
    both = np.concatenate([base, labels[:, None]], axis=1)

    def block(block_info=None):
        passes.chunk_done()
        (start, stop), _ = block_info[None]["array-location"]
        return both[start:stop].copy()

    lazy = da.map_blocks(block, chunks=((rows // chunks,) * chunks, (cols + 1,)), dtype=float, meta=np.empty((0, 0)))
    return lazy[:, :cols], lazy[:, cols], base, labels


def test_the_example_converges_and_equals_numpy(example, threads):
    X, y = example.make_data(ROWS, COLS, ROWS // CHUNKS)
    lazy = example.fit(X, y, gtol=1e-9)
    xn, yn = np.asarray(X.compute()), np.asarray(y.compute())
    eager = example.fit(xn, yn, gtol=1e-9)
    assert lazy.status == eager.status == "converged"
    assert lazy.history["grad_norm"][-1] <= 1e-9
    np.testing.assert_allclose(lazy.x, eager.x, rtol=0, atol=1e-8)
    # The history is recorded as for NumPy data: a row per point, the parameters' columns, NumPy floats.
    assert len(lazy.history) == lazy.steps + 1
    assert lazy.history.columns == eager.history.columns
    np.testing.assert_allclose(lazy.history["loss"][-1], eager.history["loss"][-1], rtol=1e-12)
    assert type(lazy.x) is np.ndarray and type(lazy.grad) is np.ndarray


def test_the_example_sample_check_agrees(example, threads):
    X, y = example.make_data(60_000, 5, 15_000)
    diff, lazy, eager = example.sample_check(X, y, rows=20_000, chunks=4)
    assert lazy.status == "converged" and diff <= 1e-8


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_first_order_step_is_one_pass(optimizer, threads):
    passes = Passes()
    X, y, _, _ = counted_data(passes)
    steps = 6
    with passes:
        r = tg.minimize(lambda w: tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(
            labels=y, logits=tg.linalg.matvec(X, w))), np.zeros(COLS), optimizer=optimizer, steps=steps)
    assert r.steps == steps
    assert passes.computes == steps + 1  # x0 and each step's new point: loss and gradient in one compute
    assert passes.chunk_calls == CHUNKS * (steps + 1)  # each compute reads each chunk once (X and y share it)


def _logistic(X, y):
    return lambda p: tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(
        labels=y, logits=tg.linalg.matvec(X, p["w"]) + p["b"])) + 1e-3 * tg.reduce_sum(p["w"] ** 2)


# Step sizes too long at first, so the searches backtrack: several trial points in a step.
SEARCHES = {"lbfgs": lambda: tg.optimizers.LBFGS(learning_rate=16.0),
            "linesearch": lambda: tg.optimizers.LineSearchGD(learning_rate=100.0)}


@pytest.mark.parametrize("name", SEARCHES)
def test_a_line_search_takes_the_gradient_with_each_trial_point(name, threads):
    passes = Passes()
    X, y, xn, yn = counted_data(passes)
    x0 = {"w": np.zeros(COLS), "b": np.float64(0.0)}
    # Steps far from the minimum: each Armijo test has a margin far above rounding, so both runs try the same
    # points (near the minimum the loss differences are rounding, and the two sums of chunks may decide apart).
    with passes:
        lazy = tg.minimize(_logistic(X, y), x0, optimizer=SEARCHES[name](), steps=8)
    eager = tg.minimize(_logistic(xn, yn), x0, optimizer=SEARCHES[name](), steps=8)
    np.testing.assert_allclose(lazy.x["w"], eager.x["w"], rtol=0, atol=1e-8)
    assert passes.computes == lazy.nfev and passes.chunk_calls == CHUNKS * lazy.nfev
    # On NumPy every step evaluates the loss at its trial points, then loss and gradient at the accepted one;
    # on Dask the accepted trial's pass gave the gradient too: one pass fewer per step, on the same path.
    np.testing.assert_allclose(lazy.history["lr"], eager.history["lr"], rtol=1e-9)
    assert lazy.steps == eager.steps and len(set(lazy.history["lr"][:-1])) > 1  # it did backtrack
    assert lazy.nfev == eager.nfev - eager.steps


def test_newton_on_dask_data_equals_numpy(threads):
    passes = Passes()
    X, y, xn, yn = counted_data(passes, rows=4_000, cols=3)
    x0 = {"w": np.zeros(3), "b": np.float64(0.0)}
    with passes:
        lazy = tg.minimize(_logistic(X, y), x0, optimizer="newton", steps=20, gtol=1e-10)
    eager = tg.minimize(_logistic(xn, yn), x0, optimizer="newton", steps=20, gtol=1e-10)
    assert lazy.status == "converged"
    np.testing.assert_allclose(lazy.x["w"], eager.x["w"], rtol=0, atol=1e-8)
    # A step: the Hessian (one compute, all its rows), then the line search's trial points with their gradients.
    assert passes.computes == lazy.nfev <= 1 + 3 * lazy.steps


def test_gradients_from_the_tape_are_lazy_dask_arrays(threads):
    passes = Passes()
    X, y, xn, yn = counted_data(passes)
    w = tg.Variable(np.linspace(-0.5, 0.5, COLS))
    with passes:
        with tg.GradientTape() as tape:
            loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tg.linalg.matvec(X, w)))
        grad = tape.gradient(loss, w)
        assert passes.computes == 0  # nothing computed yet
    assert type(loss._value).__module__.startswith("dask") and type(grad._value).__module__.startswith("dask")
    with tg.GradientTape() as tape:
        ref = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=yn, logits=tg.linalg.matvec(xn, w)))
    np.testing.assert_allclose(grad.numpy(), tape.gradient(ref, w).numpy(), rtol=1e-12, atol=1e-15)


def test_compiled_code_is_not_used_on_dask_and_says_why(threads):
    passes = Passes()
    X, y, xn, yn = counted_data(passes)
    r = tg.minimize(_logistic(X, y), {"w": np.zeros(COLS), "b": np.float64(0.0)}, optimizer="adam", steps=3)
    assert r.compiled is False and "dask" in r.compile_reason
    w = tg.Variable(np.linspace(-0.5, 0.5, COLS))

    def step(X, y):
        with tg.GradientTape() as tape:
            loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tg.linalg.matvec(X, w)))
        return loss, tape.gradient(loss, w)

    f = tg.function(step)
    args = (tg.constant(X), tg.constant(y))
    loss, grad = f(*args)
    loss, grad = f(*args)  # the second call of a traced signature: still eager, still Dask
    concrete = f.get_concrete_function(*args)
    assert not concrete.compiled and "dask" in concrete.reason
    assert type(grad._value).__module__.startswith("dask")
    ref_loss, ref_grad = step(xn, yn)
    np.testing.assert_allclose(grad.numpy(), ref_grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(float(loss), float(ref_loss), rtol=1e-12)


@pytest.mark.skipif(not has("distributed"), reason="needs distributed (pip install 'tapegrad[dask]')")
def test_a_distributed_client_runs_the_same_descent(example):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        X, y = example.make_data(ROWS, COLS, ROWS // CHUNKS)
        lazy = example.fit(X, y, gtol=1e-9)
        xn, yn = np.asarray(X.compute()), np.asarray(y.compute())
    eager = example.fit(xn, yn, gtol=1e-9)
    assert lazy.status == "converged"
    np.testing.assert_allclose(lazy.x, eager.x, rtol=0, atol=1e-8)
