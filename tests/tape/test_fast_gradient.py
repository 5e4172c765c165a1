"""gradient()'s fast path (one target, one source, non-persistent, outside every tape) gives what the general
path gives, bit for bit: the same program recorded twice, differentiated once each way."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core.state import hooked
from tests.optional import given, settings, st

# (name, arity, op): small programs of these, on float32 or float64 values kept in a safe range
OPS = [
    ("add", 2, lambda a, b: a + b),
    ("sub", 2, lambda a, b: a - b),
    ("mul", 2, lambda a, b: a * b),
    ("div", 2, lambda a, b: a / (b * b + 1.0)),
    ("square", 1, lambda a: tg.math.square(a)),
    ("pow2", 1, lambda a: a ** 2),
    ("pow3", 1, lambda a: a ** 3.0),
    ("sin", 1, tg.sin),
    ("tanh", 1, tg.tanh),
    ("exp", 1, lambda a: tg.exp(tg.tanh(a))),
    ("round", 1, tg.round),  # cuts the gradient: some programs end unconnected
    ("stop", 1, tg.stop_gradient),
    ("sum", 1, tg.reduce_sum),
]


def _run(program: list, values: list, dtype: str, mode: str, general: bool):
    """Record ``program`` on a fresh tape and differentiate its last value with respect to the first input."""
    if mode == "variable":
        x = tg.Variable(np.asarray(values[0], dtype))
    else:
        x = tg.constant(np.asarray(values[0], dtype))
    other = tg.constant(np.asarray(values[1], dtype))
    extra = tg.Variable(np.asarray(values[2], dtype))  # read by some programs: a second watched object
    with tg.GradientTape() as tape:
        if mode == "constant":
            tape.watch(x)
        env = [x, other, extra]
        for name, picks in program:
            _, arity, fn = OPS_BY_NAME[name]
            args = [env[p % len(env)] for p in picks[:arity]]
            env.append(fn(*args))
        target = env[-1]
        if type(target) is not tg.Tensor:
            target = target * 1.0
    ran: list = []  # the ops the walk runs, in order: the same rules must run, no more
    with hooked(lambda prim, inputs, params, out: ran.append(prim.name)):
        if general:  # a list of sources takes the general path
            (g,) = tape.gradient(target, [x])
        else:
            g = tape.gradient(target, x)
    return g, ran


OPS_BY_NAME = {name: (name, arity, fn) for name, arity, fn in OPS}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a.numpy()), np.asarray(b.numpy())
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=150, deadline=None)
@given(
    program=st.lists(st.tuples(st.sampled_from([name for name, _, _ in OPS]),
                               st.lists(st.integers(0, 12), min_size=2, max_size=2)), min_size=1, max_size=6),
    values=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3),
    dtype=st.sampled_from(["float32", "float64"]),
    mode=st.sampled_from(["variable", "constant"]),
)
def test_the_fast_path_equals_the_general_path_bit_for_bit(program, values, dtype, mode):
    fast, fast_ops = _run(program, values, dtype, mode, general=False)
    slow, slow_ops = _run(program, values, dtype, mode, general=True)
    assert _same(fast, slow), (fast, slow)
    assert fast_ops == slow_ops


def test_the_seed_loop_descends_the_same_either_way():
    def descend(general: bool):
        w = tg.Variable(1.0)
        for _ in range(50):
            with tg.GradientTape() as tape:
                y = w ** 2
            g = tape.gradient(y, [w])[0] if general else tape.gradient(y, w)
            w.assign_sub(0.01 * g)
        return w.numpy()
    fast, slow = descend(False), descend(True)
    assert fast.tobytes() == slow.tobytes()
    np.testing.assert_allclose(fast, 0.98 ** 50, rtol=1e-5)  # w <- w - 0.01 * 2w


def test_a_target_that_is_its_own_source_gives_a_plain_tensor_of_ones():
    x = tg.constant([1.0, 2.0])
    with tg.GradientTape() as tape:
        tape.watch(x)
        _ = x * 2.0  # recorded, not the target
    g = tape.gradient(x, x)
    assert type(g) is tg.Tensor
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


def test_the_fast_path_spends_the_tape_and_keeps_what_explain_needs():
    x = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = tg.round(x) * 3.0
    assert tape.gradient(y, x) is None
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)
    assert tape.explain(y, x)  # the spent tape still says why


def test_a_watched_intermediate_as_the_source_walks_only_what_depends_on_it():
    x = tg.constant(3.0)
    with tg.GradientTape() as tape:
        tape.watch(x)
        a = x * 2.0
        b = tg.sin(x)  # watched too (through x), but not through a
        y = a * b
    # d y / d a = b: the walk reaches b's rule only through a, so x's branch through b adds nothing
    np.testing.assert_allclose(tape.gradient(y, a).numpy(), np.sin(np.float32(3.0)), rtol=1e-6)


def test_the_fast_path_is_not_taken_inside_an_outer_tape():
    x = tg.Variable(1.5)
    with tg.GradientTape() as outer:
        with tg.GradientTape() as inner:
            y = x ** 3.0
        g = inner.gradient(y, x)
    # the outer tape recorded the walk: a second derivative
    np.testing.assert_allclose(outer.gradient(g, x).numpy(), 6 * 1.5, rtol=1e-6)


def test_the_seed_step_takes_the_fast_path_and_a_list_of_sources_does_not(monkeypatch):
    import tapegrad.tape as tape_module
    calls = []
    fast = tape_module.backward1
    monkeypatch.setattr(tape_module, "backward1", lambda *a: calls.append(1) or fast(*a))
    w = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        y = w ** 2
    tape.gradient(y, w)
    assert calls == [1]
    with tg.GradientTape() as tape:
        y = w ** 2
    tape.gradient(y, [w])
    assert calls == [1]
