"""Each optimizer's steps against its formula written out here in float64 (Keras 3's update_step).

Both faces are checked: the Keras-style object (apply_gradients on a Variable) and the pure
transformation (init/update on arrays). Several steps on random gradients, so the moments,
bias corrections and step counters all take part.
"""
import math

import numpy as np
import pytest

import tapegrad as tg

O = tg.optimizers
STEPS = 6


def _sgd(w, gs, lr, momentum=0.0, nesterov=False):
    m, out = 0.0, []
    for g in gs:
        if momentum == 0:
            w = w - lr * g
        else:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
        out.append(w)
    return out


def _adam(w, gs, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    m = v = v_max = 0.0
    out = []
    for t, g in enumerate(gs, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        v_max = np.maximum(v_max, v)
        # Keras folds the bias correction into the step size; epsilon is added to the uncorrected sqrt(v).
        alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = w - alpha * m / (np.sqrt(v_max if amsgrad else v) + epsilon)
        out.append(w)
    return out


def _rmsprop(w, gs, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    v = mom = avg = 0.0
    out = []
    for g in gs:
        v = rho * v + (1 - rho) * g**2
        avg = rho * avg + (1 - rho) * g
        denominator = v - avg**2 + epsilon if centered else v + epsilon  # epsilon inside the square root
        step = lr * g / np.sqrt(denominator)
        mom = momentum * mom + step
        w = w - (mom if momentum > 0 else step)
        out.append(w)
    return out


def _adagrad(w, gs, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    acc, out = initial_accumulator_value, []
    for g in gs:
        acc = acc + g**2
        w = w - lr * g / np.sqrt(acc + epsilon)
        out.append(w)
    return out


def _adadelta(w, gs, lr, rho=0.95, epsilon=1e-7):
    eg = edx = 0.0
    out = []
    for g in gs:
        eg = rho * eg + (1 - rho) * g**2
        dx = -np.sqrt(edx + epsilon) * g / np.sqrt(eg + epsilon)
        edx = rho * edx + (1 - rho) * dx**2
        w = w + lr * dx
        out.append(w)
    return out


def _adamax(w, gs, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = u = 0.0
    out = []
    for t, g in enumerate(gs, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        u = np.maximum(beta_2 * u, np.abs(g))
        w = w - lr * m / ((1 - beta_1**t) * (u + epsilon))
        out.append(w)
    return out


def _nadam(w, gs, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = v = 0.0
    product = 1.0  # prod of the momentum schedule mu_i = beta_1 (1 - 0.5 * 0.96^i), i = 1..t
    out = []
    for t, g in enumerate(gs, start=1):
        mu_t = beta_1 * (1 - 0.5 * 0.96**t)
        mu_next = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
        product = product * mu_t
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu_t) * g / (1 - product)
        v_hat = v / (1 - beta_2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + epsilon)
        out.append(w)
    return out


def _lion(w, gs, lr, beta_1=0.9, beta_2=0.99):
    m, out = 0.0, []
    for g in gs:
        w = w - lr * np.sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g
        out.append(w)
    return out


# name, Keras class, transformation, reference formula, hyperparameters (beyond learning_rate)
CASES = [
    ("sgd", O.SGD, O.sgd, _sgd, {}),
    ("sgd-momentum", O.SGD, O.sgd, _sgd, {"momentum": 0.9}),
    ("sgd-nesterov", O.SGD, O.sgd, _sgd, {"momentum": 0.8, "nesterov": True}),
    ("adam", O.Adam, O.adam, _adam, {}),
    ("adam-big-epsilon", O.Adam, O.adam, _adam, {"beta_1": 0.5, "beta_2": 0.7, "epsilon": 0.3}),
    ("adam-amsgrad", O.Adam, O.adam, _adam, {"amsgrad": True}),
    ("rmsprop", O.RMSprop, O.rmsprop, _rmsprop, {}),
    ("rmsprop-centered-momentum", O.RMSprop, O.rmsprop, _rmsprop,
     {"rho": 0.8, "momentum": 0.5, "epsilon": 0.01, "centered": True}),
    ("adagrad", O.Adagrad, O.adagrad, _adagrad, {"initial_accumulator_value": 0.3, "epsilon": 1e-3}),
    ("adadelta", O.Adadelta, O.adadelta, _adadelta, {"rho": 0.8, "epsilon": 1e-3}),
    ("adamax", O.Adamax, O.adamax, _adamax, {"beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-3}),
    ("nadam", O.Nadam, O.nadam, _nadam, {}),
    ("nadam-big-epsilon", O.Nadam, O.nadam, _nadam, {"beta_1": 0.5, "beta_2": 0.67, "epsilon": 0.1}),
    ("lion", O.Lion, O.lion, _lion, {"beta_1": 0.8, "beta_2": 0.9}),
]


def _gradients(shape, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) * 3 for _ in range(STEPS)]


@pytest.mark.parametrize("shape", [(), (4,)], ids=["scalar", "vector"])
@pytest.mark.parametrize("name, cls, transform, formula, hyper", CASES, ids=[c[0] for c in CASES])
def test_keras_object_steps_match_the_formula(name, cls, transform, formula, hyper, shape):
    lr = 0.1
    w0 = np.linspace(-1.0, 2.0, 4).reshape(shape) if shape else np.float64(0.7)
    grads = _gradients(shape)
    want = formula(w0, grads, lr, **hyper)
    w = tg.Variable(w0)
    opt = cls(learning_rate=lr, **hyper)
    for k, g in enumerate(grads):
        opt.apply_gradients([(g, w)])
        np.testing.assert_allclose(w.numpy(), want[k], rtol=1e-13, atol=1e-15, err_msg=f"{name} step {k + 1}")
        assert w.dtype == tg.float64
    assert int(opt.iterations) == STEPS


@pytest.mark.parametrize("name, cls, transform, formula, hyper", CASES, ids=[c[0] for c in CASES])
def test_transformation_steps_match_the_formula(name, cls, transform, formula, hyper):
    lr = 0.1
    params = {"a": np.linspace(-1.0, 2.0, 4), "b": np.float64(0.7)}
    grads = {"a": _gradients((4,), seed=1), "b": _gradients((), seed=2)}
    want = {k: formula(params[k], grads[k], lr, **hyper) for k in params}
    tx = transform(learning_rate=lr, **hyper)
    state = tx.init(params)
    for k in range(STEPS):
        updates, state = tx.update({"a": grads["a"][k], "b": grads["b"][k]}, state, params)
        params = O.apply_updates(params, updates)
        for key in params:
            np.testing.assert_allclose(params[key], want[key][k], rtol=1e-13, atol=1e-15,
                                       err_msg=f"{name}[{key}] step {k + 1}")


def test_keras_adam_puts_epsilon_on_the_uncorrected_root():
    # With a large epsilon the two conventions differ visibly; Keras's is the one implemented.
    lr, b1, b2, eps, g = 0.1, 0.9, 0.999, 0.5, 2.0
    w = tg.Variable(np.float64(0.0))
    O.Adam(lr, beta_1=b1, beta_2=b2, epsilon=eps).apply_gradients([(g, w)])
    m_hat, v_hat = g, g * g  # first step: the corrected moments are g and g^2
    keras = -lr * math.sqrt(1 - b2) / (1 - b1) * ((1 - b1) * g) / (math.sqrt((1 - b2) * g * g) + eps)
    textbook = -lr * m_hat / (math.sqrt(v_hat) + eps)
    assert float(w.numpy()) == pytest.approx(keras, rel=1e-14)
    assert abs(keras - textbook) > 0.01


def test_float32_variables_stay_float32():
    w = tg.Variable([1.0, 2.0])
    opt = O.Adam(0.1)
    for _ in range(3):
        opt.apply_gradients([(tg.constant([0.5, -0.5]), w)])
        assert w.dtype == tg.float32
    assert opt.get_slot(w, "velocity").dtype == np.float32


def test_seed_sgd_step_in_float32_is_the_blogs_arithmetic():
    # The seed computes w - lr * g in float32 (lr converted to float32); SGD must do the same.
    w = tg.Variable(1.0)
    opt = O.SGD(0.01)
    ref = np.float32(1.0)
    for _ in range(200):
        with tg.GradientTape() as tape:
            y = w**2
        opt.apply_gradients(zip([tape.gradient(y, w)], [w]))
        ref = ref - np.float32(0.01) * (np.float32(2.0) * ref)
        assert w.numpy() == ref


# Keras's own test values (keras/src/optimizers/*_test.py, test_correctness_with_golden): one step of
# 0.01 on ones(10), then five steps of arange(0.1, 1.1, 0.1), compared at Keras's tolerance 5e-4.
GOLDEN = [
    (O.Adam, {"amsgrad": True}, [0.999, 0.9982, 0.9974, 0.9965, 0.9955], None),
    (O.SGD, {"nesterov": True}, None, [[0.9999] * 3, [0.9989, 0.9979, 0.9969], [0.9979, 0.9959, 0.9939],
                                       [0.9969, 0.9939, 0.9909], [0.9959, 0.9919, 0.9879]]),
    (O.RMSprop, {"centered": True}, [0.9967, 0.9933, 0.9908, 0.9885, 0.9864], None),
    (O.Adadelta, {"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-6}, [0.9978, 0.9947, 0.9915, 0.9882, 0.9849], None),
    (O.Lion, {}, [0.999, 0.998, 0.997, 0.996, 0.995], None),
    (O.Adagrad, {"learning_rate": 0.2, "initial_accumulator_value": 0.3, "epsilon": 1e-6}, None,
     [[0.9963] * 3, [0.9604, 0.9278, 0.9003], [0.9251, 0.8629, 0.8137], [0.8903, 0.8012, 0.7342],
      [0.856, 0.7422, 0.6604]]),
    (O.Adamax, {"learning_rate": 0.2, "beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-6}, None,
     [[0.8] * 3, [0.6827, 0.6873, 0.6888], [0.5333, 0.5407, 0.5431], [0.368, 0.3773, 0.3804],
      [0.1933, 0.204, 0.2076]]),
    (O.Nadam, {"learning_rate": 0.5, "beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5}, None,
     [[0.4281] * 3, [-0.1738, -0.1731, -0.1726], [-0.7115, -0.7103, -0.7096], [-1.2335, -1.2322, -1.2313],
      [-1.7492, -1.7478, -1.7469]]),
    (O.AdamW, {"learning_rate": 1.0, "weight_decay": 0.5, "epsilon": 2}, None,
     [[0.4998] * 3, [0.2486, 0.2475, 0.2463], [0.1223, 0.1198, 0.1174], [0.0586, 0.0549, 0.0512],
      [0.0263, 0.0215, 0.0167]]),
]


@pytest.mark.parametrize("cls, kwargs, same_for_all, first_three", GOLDEN, ids=[g[0].__name__ for g in GOLDEN])
def test_kerass_golden_values(cls, kwargs, same_for_all, first_three):
    x = tg.Variable(np.ones(10))
    opt = cls(**kwargs)
    opt.apply_gradients([(np.full(10, 0.01), x)])
    for i in range(5):
        want = [same_for_all[i]] * 3 if same_for_all else first_three[i]
        np.testing.assert_allclose(x.numpy()[:3], want, atol=5e-4)
        opt.apply_gradients([(np.arange(0.1, 1.1, 0.1)[:10], x)])


@pytest.mark.parametrize("cls", [O.SGD, O.Adam, O.RMSprop, O.Adagrad, O.Adadelta, O.Adamax, O.Nadam, O.Lion])
def test_weight_decay_shrinks_by_lr_times_decay_and_respects_exclusions(cls):
    # Keras's test: three optimizers with lr 1 and decay 0.004 each decay var1 once: 2 * 0.996^3.
    zero = tg.constant(np.float64(0.0))
    var1, var2, var3 = (tg.Variable(np.float64(2.0), name=n) for n in ("a", "exclude", "c"))
    cls(learning_rate=1.0, weight_decay=0.004).apply_gradients([(zero, var1)])
    opt2 = cls(learning_rate=1.0, weight_decay=0.004)
    opt2.exclude_from_weight_decay(var_names=["exclude"])
    opt2.apply_gradients([(zero, var1), (zero, var2)])
    opt3 = cls(learning_rate=1.0, weight_decay=0.004)
    opt3.exclude_from_weight_decay(var_list=[var3])
    opt3.apply_gradients([(zero, var1), (zero, var3)])
    assert float(var1.numpy()) == pytest.approx(2 * 0.996**3, rel=1e-12)
    assert float(var2.numpy()) == 2.0 and float(var3.numpy()) == 2.0


def test_adamw_decays_before_the_adam_step():
    lr, wd, g, w0 = 0.1, 0.3, 1.5, 2.0
    w = tg.Variable(np.float64(w0))
    O.AdamW(lr, weight_decay=wd).apply_gradients([(g, w)])
    decayed = w0 - w0 * wd * lr
    assert float(w.numpy()) == pytest.approx(_adam(decayed, [g], lr)[0], rel=1e-14)


def test_adamw_transformation_matches_the_object_to_rounding():
    w = tg.Variable(np.array([2.0, -1.0]))
    p = np.array([2.0, -1.0])
    opt, tx = O.AdamW(0.1, weight_decay=0.3), O.adamw(0.1, weight_decay=0.3)
    state = tx.init(p)
    for g in _gradients((2,), seed=3):
        opt.apply_gradients([(g, w)])
        u, state = tx.update(g, state, p)
        p = O.apply_updates(p, u)
    np.testing.assert_allclose(p, w.numpy(), rtol=1e-14)


def test_clipnorm_clips_each_gradient_to_its_own_norm():
    w1, w2 = tg.Variable(np.zeros(2)), tg.Variable(np.zeros(1))
    O.SGD(1.0, clipnorm=1.0).apply_gradients([(np.array([100.0, 100.0]), w1), (np.array([0.5]), w2)])
    np.testing.assert_allclose(w1.numpy(), [-(2**0.5) / 2] * 2, rtol=1e-15)
    np.testing.assert_allclose(w2.numpy(), [-0.5], rtol=1e-15)


def test_global_clipnorm_scales_all_gradients_together():
    w1, w2 = tg.Variable(np.zeros(1)), tg.Variable(np.zeros(1))
    O.SGD(1.0, global_clipnorm=1.0).apply_gradients([(np.array([3.0]), w1), (np.array([4.0]), w2)])
    np.testing.assert_allclose([w1.numpy()[0], w2.numpy()[0]], [-0.6, -0.8], rtol=1e-15)
    w = tg.Variable(np.zeros(2))
    O.SGD(1.0, global_clipnorm=10.0).apply_gradients([(np.array([3.0, 4.0]), w)])  # under the limit: unchanged
    np.testing.assert_allclose(w.numpy(), [-3.0, -4.0], rtol=1e-15)


def test_clipvalue_clips_elements():
    w = tg.Variable(np.zeros(3))
    O.SGD(1.0, clipvalue=1.0).apply_gradients([(np.array([100.0, -0.25, -7.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-1.0, 0.25, 1.0])


def test_only_one_clipping_option():
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        O.Adam(clipnorm=1.0, clipvalue=1.0)


def test_chain_clips_then_steps():
    tx = O.chain(O.clip_by_global_norm(1.0), O.sgd(0.5))
    p = np.array([3.0, 4.0])
    updates, state = tx.update(np.array([30.0, 40.0]), tx.init(p), p)
    np.testing.assert_allclose(updates, [-0.3, -0.4], rtol=1e-15)
    assert len(state) == 2
    with pytest.raises(ValueError, match="this chain has 2 transformations"):
        tx.update(np.array([1.0, 1.0]), (), p)


def test_scale_and_add_decayed_weights():
    p = np.array([2.0, -4.0])
    tx = O.chain(O.scale(-0.5), O.add_decayed_weights(0.25, learning_rate=0.1))
    updates, _ = tx.update(np.array([1.0, 1.0]), tx.init(p), p)
    np.testing.assert_allclose(updates, [-0.5 - 2.0 * 0.25 * 0.1, -0.5 + 4.0 * 0.25 * 0.1])
    with pytest.raises(ValueError, match="needs the parameters"):
        O.add_decayed_weights(0.1).update(np.ones(2), 0)


def test_transformation_state_is_pure():
    tx = O.adam(0.1)
    p = np.ones(3)
    s0 = tx.init(p)
    u1, s1 = tx.update(np.ones(3), s0)
    u2, _ = tx.update(np.ones(3), s0)  # the same state again gives the same update
    np.testing.assert_array_equal(u1, u2)
    assert s0.count == 0 and s1.count == 1
    np.testing.assert_array_equal(s0.slots[0][0], np.zeros(3))


def test_transformation_rejects_a_state_for_other_parameters():
    tx = O.sgd(0.1, momentum=0.9)
    with pytest.raises(ValueError, match="2 gradients for a state made for 1"):
        tx.update([np.ones(1), np.ones(1)], tx.init([np.ones(1)]))


def test_apply_updates_casts_and_updates_variables_in_place():
    v = tg.Variable(np.float32(1.0))
    out = O.apply_updates({"a": np.float32(1.0), "v": v}, {"a": 0.25, "v": np.float64(0.5)})
    assert out["a"].dtype == np.float32 and out["a"] == 1.25
    assert out["v"] is v and v.numpy() == np.float32(1.5)
    with pytest.raises(ValueError, match="2 parameters but 1 updates"):
        O.apply_updates([1.0, 2.0], [1.0])
