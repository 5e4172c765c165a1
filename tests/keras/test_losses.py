"""tf.keras.losses as Keras 3 (TensorFlow 2.21) computes them: reductions, sample weights, clipping,
label smoothing, from_logits, dtypes and errors.

Values marked "recorded" were printed by TensorFlow 2.21 / Keras 3.15 (CPU, float32) on the same
inputs, and are compared with a tolerance a float32 kernel's rounding stays within.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import check_grads

L = tg.keras.losses
Y_TRUE = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
Y_PRED = [[0.2, 0.7], [0.9, 0.4], [0.6, 0.99]]
SW = [1.0, 0.0, 2.0]

# recorded: cls(reduction=r)(Y_TRUE, Y_PRED) without weights, with SW, with 2.0, with SW as a column
RECORDED = {
    "MeanSquaredError": {"sum_over_batch_size": (0.076683335, 0.07503333, 0.15336667),
                         "sum": (0.23005, 0.22509998, 0.4601), "mean_with_sample_weight": (0.076683335, 0.07503333,
                                                                                           0.23005)},
    "MeanAbsoluteError": {"sum_over_batch_size": (0.235, 0.21999998, 0.47), "sum": (0.705, 0.65999997, 1.41),
                          "mean_with_sample_weight": (0.235, 0.21999998, 0.705)},
    "Huber": {"sum_over_batch_size": (0.038341668, 0.037516665, 0.076683335), "sum": (0.115025, 0.11254999, 0.23005),
              "mean_with_sample_weight": (0.038341668, 0.037516665, 0.115025)},
    "BinaryCrossentropy": {"sum_over_batch_size": (0.28614676, 0.27026173, 0.5722935),
                           "sum": (0.8584403, 0.8107852, 1.7168806),
                           "mean_with_sample_weight": (0.28614676, 0.27026173, 0.8584403)},
}
RECORDED_NONE = {"MeanSquaredError": [0.06500001, 0.08500001, 0.08004999], "MeanAbsoluteError": [0.25, 0.25, 0.205],
                 "Huber": [0.0325, 0.0425, 0.040025], "BinaryCrossentropy": [0.28990924, 0.30809307, 0.26043797]}


@pytest.mark.parametrize("cls", sorted(RECORDED))
def test_reductions_and_sample_weights_match_keras(cls):
    for reduction, (plain, weighted, doubled) in RECORDED[cls].items():
        loss = getattr(L, cls)(reduction=reduction)
        got = [loss(Y_TRUE, Y_PRED), loss(Y_TRUE, Y_PRED, sample_weight=SW), loss(Y_TRUE, Y_PRED, sample_weight=2.0),
               loss(Y_TRUE, Y_PRED, sample_weight=[[1.0], [0.0], [2.0]])]
        assert all(g.dtype == tg.float32 and g.shape == () for g in got)
        np.testing.assert_allclose([float(g) for g in got], [plain, weighted, doubled, weighted], rtol=1e-6,
                                   err_msg=f"{cls} {reduction}")
    none = getattr(L, cls)(reduction="none")
    np.testing.assert_allclose(none(Y_TRUE, Y_PRED).numpy(), RECORDED_NONE[cls], rtol=1e-6)
    np.testing.assert_allclose(none(Y_TRUE, Y_PRED, sample_weight=SW).numpy(), np.multiply(RECORDED_NONE[cls], SW),
                               rtol=1e-6)


def test_cross_entropies_match_keras():
    yp = np.array(Y_PRED, np.float32)
    # recorded: from_logits, label_smoothing=0.2, both
    np.testing.assert_allclose([float(L.BinaryCrossentropy(from_logits=True)(Y_TRUE, yp * 5 - 2)),
                                float(L.BinaryCrossentropy(label_smoothing=0.2)(Y_TRUE, yp)),
                                float(L.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)(Y_TRUE, yp * 5 - 2))],
                               [0.27516493, 0.4500945, 0.42433155], rtol=1e-6)
    # recorded: probabilities 0 and 1 are clipped to [1e-7, 1 - 1e-7] before the logarithm
    np.testing.assert_allclose(L.binary_crossentropy([[1.0, 0.0]], [[0.0, 1.0]]).numpy(), [16.03024], rtol=1e-6)
    np.testing.assert_allclose(L.binary_crossentropy([[1.0, 0.0]], [[1.0, 0.0]]).numpy(), [1.1920929e-07], rtol=1e-5)
    ct, cp = [[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], [[0.1, 0.8, 0.1], [0.5, 0.3, 0.4]]
    recorded = {(False, 0.0): [0.22314353, 1.1402882], (True, 0.0): [0.6897267, 1.111943],
                (False, 0.1): [0.36177298, 1.1382718], (True, 0.1): [0.73639345, 1.1109428]}
    for (logits, smoothing), want in recorded.items():
        got = L.categorical_crossentropy(ct, cp, from_logits=logits, label_smoothing=smoothing)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    assert abs(float(L.CategoricalCrossentropy()(ct, cp)) - 0.6817159) < 1e-6
    # sparse: probabilities are renormalized (Keras's log-then-softmax), rank-matching labels squeezed
    np.testing.assert_allclose(L.sparse_categorical_crossentropy([1, 2], cp).numpy(), [0.22314355, 1.0986122],
                               rtol=1e-6)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy([1, 2], cp, from_logits=True).numpy(),
                               [0.6897267, 1.1019429], rtol=1e-6)
    assert abs(float(L.SparseCategoricalCrossentropy()([[1], [2]], cp)) - 0.6608779) < 1e-6
    np.testing.assert_allclose(L.sparse_categorical_crossentropy([1, -1], cp, ignore_class=-1).numpy(),
                               [0.22314355, 0.0], rtol=1e-6)
    # the ignored sample leaves the mean's count too: 0.2231 / 1, not / 2 (recorded)
    assert abs(float(L.SparseCategoricalCrossentropy(ignore_class=-1)([1, -1], cp)) - 0.22314355) < 1e-6


def test_gradients_match_keras():
    yp = tg.Variable(Y_PRED)
    with tg.GradientTape() as tape:
        loss = L.BinaryCrossentropy()(Y_TRUE, yp)
    np.testing.assert_allclose(tape.gradient(loss, yp).numpy(), [[0.20833334, -0.23809525], [-0.1851852, 0.2777778],
                                                                 [-0.2777778, -0.16835016]], rtol=1e-5)
    cp = tg.Variable([[0.1, 0.8, 0.1], [0.5, 0.3, 0.4]])
    ct = [[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]
    with tg.GradientTape(persistent=True) as tape:
        probs = L.CategoricalCrossentropy()(ct, cp)
        logits = L.CategoricalCrossentropy(from_logits=True)(ct, cp)
    np.testing.assert_allclose(tape.gradient(probs, cp).numpy(), [[0.5, -0.125, 0.5],
                                                                  [0.21666668, -0.08333331, -0.20833331]], rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(logits, cp).numpy(), [[0.1245717, -0.24914342, 0.1245717],
                                                                   [0.08358269, 0.0003048, -0.0838875]],
                               rtol=1e-5, atol=1e-7)  # (0.0003 is a difference of nearby float32 numbers)


@pytest.mark.parametrize("fn", [L.mse, L.mae, lambda t, p: L.huber(t, p, delta=0.5),
                                lambda t, p: L.binary_crossentropy(t, p, label_smoothing=0.1),
                                lambda t, p: L.binary_crossentropy(t, p, from_logits=True),
                                lambda t, p: L.categorical_crossentropy(t, p, from_logits=True, label_smoothing=0.1),
                                lambda t, p: L.sparse_categorical_crossentropy([0, 1, 1], p, from_logits=True)])
def test_loss_functions_against_finite_differences(fn):
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 1, (3, 2))
    t /= t.sum(-1, keepdims=True)  # rows of probabilities: where TensorFlow's softmax rule is the gradient
    p = rng.uniform(0.2, 0.8, (3, 2)) + np.array([0.0, 0.013])  # no ties at Huber's kink or abs's corner
    check_grads(lambda x: fn(t, x), [p], order=2, per_element=True)


def test_function_forms_keep_the_prediction_dtype_and_classes_use_their_dtype():
    a, b = np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]])
    assert L.mse(a, b).dtype == tg.float64  # recorded: the function keeps float64
    assert L.MeanSquaredError()(a, b).dtype == tg.float32  # recorded: the object converts to its dtype
    assert L.MeanSquaredError(dtype="float64")(a, b).dtype == tg.float64
    assert float(L.mse(tg.constant([[1, 2]]), tg.constant([[2.0, 4.0]]))[0]) == 2.5  # integer labels cast
    assert float(L.MeanSquaredError()([1.0, 2.0], [2.0, 4.0])) == 2.5


def test_names_configs_and_errors():
    assert L.mse is L.MSE is L.mean_squared_error and L.mae is L.MAE is L.mean_absolute_error
    assert L.get("mse") is L.mse and isinstance(L.get("Huber"), L.Huber)
    loss = L.MeanSquaredError()
    assert loss.name == "mean_squared_error" and loss.reduction == "sum_over_batch_size"
    assert loss.get_config() == {"name": "mean_squared_error", "reduction": "sum_over_batch_size"}
    bce = L.BinaryCrossentropy(True, 0.1)
    assert bce.from_logits is True and bce.label_smoothing == 0.1 and bce.get_config()["axis"] == -1
    assert L.BinaryCrossentropy.from_config(bce.get_config()).from_logits is True
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        L.MeanSquaredError(reduction="bogus")
    with pytest.raises(TypeError, match="unexpected keyword"):
        L.MeanSquaredError(from_logits=True)
    with pytest.raises(ValueError, match="same shape"):
        L.binary_crossentropy([[1.0, 0.0]], [[0.5]])
    with pytest.raises(AttributeError, match="tf.keras.losses.KLDivergence.*Loss subclass"):
        L.KLDivergence  # noqa: B018
    import tapegrad.keras.losses as mod

    assert mod is L


def test_a_loss_subclass_gets_the_reduction_and_weights():
    class L1(L.Loss):
        def call(self, y_true, y_pred):
            return tg.reduce_sum(tg.abs(y_true - y_pred), axis=-1)

    assert float(L1()([[0.0, 0.0], [1.0, 1.0]], [[1.0, 2.0], [1.0, 1.0]], sample_weight=[2.0, 5.0])) == 3.0
    assert float(L1(reduction="sum")([[0.0, 0.0]], [[1.0, 2.0]])) == 3.0
    with pytest.raises(NotImplementedError, match="call"):
        L.Loss()([1.0], [1.0])
