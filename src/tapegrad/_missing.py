"""What ``tf.<name>`` says when tapegrad has no such name (imported only when that happens).

A part of TensorFlow that tapegrad leaves out is named, with what to do instead; any other name
gets the place tapegrad does have it (``tf.relu`` -> ``tf.nn.relu``) or the closest name it has.
"""
from __future__ import annotations

import difflib
from types import ModuleType

_TF1 = ("part of TensorFlow 1's graph mode (sessions, placeholders, variable scopes; in TensorFlow 2 only under "
        "tf.compat.v1)", "tapegrad runs eagerly, like TensorFlow 2: call the ops directly, hold parameters in "
        "tf.Variable and take gradients with tf.GradientTape")
_KERAS = "Keras's {}, which TensorFlow re-exports"
_NUMPY_IO = "read and write arrays with NumPy (np.load, np.save) and convert them with tf.constant"

# TensorFlow's modules and names that tapegrad deliberately leaves out: (what it is, what to do instead).
LEFT_OUT: dict[str, tuple[str, str]] = {
    "data": ("TensorFlow's input pipeline (tf.data.Dataset)",
             "iterate over NumPy arrays in Python, slicing them into batches"),
    "image": ("TensorFlow's image processing ops", "prepare images as NumPy arrays (Pillow, scikit-image), "
              "then convert them with tf.constant"),
    "io": ("TensorFlow's file and TFRecord reading and decoding", _NUMPY_IO),
    "summary": ("TensorBoard logging", "tapegrad.minimize records a History (a pandas DataFrame) and "
                "tapegrad.plot draws it; or log values with Python"),
    "saved_model": ("TensorFlow's format for saving models and graphs",
                    "save the Variables' values with np.save(v.numpy()) and restore them with v.assign"),
    "train": ("checkpoints and training utilities (tf.train.Checkpoint, ExponentialMovingAverage)",
              "save Variables with np.save(v.numpy()); tapegrad's optimizers are tf.keras.optimizers"),
    "distribute": ("multi-device and multi-worker training (strategies)",
                   "tapegrad computes with NumPy in one process"),
    "dtensor": ("distributed tensors", "tapegrad computes with NumPy in one process"),
    "tpu": ("TPU support", "tapegrad computes with NumPy on the CPU"),
    "xla": ("the XLA compiler", "tapegrad's tf.function traces and replays Python code without XLA"),
    "mlir": ("the MLIR compiler interface", "there is nothing to compile to in tapegrad"),
    "config": ("device and thread configuration", "tapegrad computes with NumPy on the CPU; NumPy's BLAS sets "
               "its own threads (OPENBLAS_NUM_THREADS)"),
    "device": ("TensorFlow's placement of ops on a CPU or GPU", "tapegrad computes with NumPy on the CPU: drop the "
               "`with tf.device(...)` line"),
    "lite": ("TensorFlow Lite, the converter for mobile devices", "tapegrad has no model format to convert"),
    "estimator": ("the Estimator API (removed from TensorFlow 2.16 too)",
                  "write the training loop with tf.GradientTape, or use tapegrad.minimize"),
    "compat": ("TensorFlow's compatibility layer (tf.compat.v1: sessions and placeholders)", _TF1[1]),
    "feature_column": ("feature columns for Estimators", "build the input arrays with NumPy or pandas"),
    "audio": ("audio decoding", _NUMPY_IO), "strings": ("string tensors", "tapegrad tensors hold numbers only"),
    "sparse": ("sparse tensors", "tapegrad tensors are dense NumPy arrays"),
    "ragged": ("ragged tensors", "tapegrad tensors are dense NumPy arrays; pad rows to one length"),
    "signal": ("signal processing (FFT, STFT)", "tapegrad does not differentiate FFTs; use np.fft outside a tape"),
    "lookup": ("lookup tables", "use a Python dict"), "queue": ("graph-mode queues", _TF1[1]),
    "sets": ("set operations on tensors", "use NumPy (np.intersect1d, np.union1d) outside a tape"),
    "profiler": ("TensorFlow's profiler", "profile with Python's cProfile"),
    "quantization": ("quantized ops", "tapegrad computes in float16/32/64"),
    "raw_ops": ("TensorFlow's low-level generated ops", "use the public ops of the same name"),
    "autograph": ("AutoGraph, the rewriting of Python control flow into graph ops",
                  "tapegrad's tf.function traces straight-line code and runs other code eagerly"),
    "experimental": ("TensorFlow's experimental APIs (tf.experimental.numpy: NumPy on tensors)",
                     "call NumPy itself: NumPy functions on tensors are recorded inside a tape"),
    "test": ("TensorFlow's test utilities", "use pytest and tapegrad.testing (check_grads)"),
    "version": ("TensorFlow's version information", "tapegrad's version is tf.__version__"),
    "sysconfig": ("TensorFlow's build configuration", "tapegrad is pure Python"),
    "errors": ("TensorFlow's exception classes", "tapegrad's are at the top level: tf.InvalidArgumentError, "
               "tf.NotDifferentiableError, tf.DTypeError, all subclasses of tf.TapegradError"),
    "dtypes": ("TensorFlow's dtype module", "the dtypes are at the top level: tf.float32, tf.as_dtype, tf.cast"),
    "losses": (_KERAS.format("losses"), "use tf.keras.losses"),
    "metrics": (_KERAS.format("metrics"), "compute metrics with tapegrad ops (tf.reduce_mean(tf.cast(y == t, "
                "tf.float32)) for accuracy)"),
    "initializers": (_KERAS.format("initializers"), "give tf.Variable its initial value, e.g. "
                     "tf.Variable(tf.random.normal([3, 2], stddev=0.1))"),
}
for _name in ("Session", "InteractiveSession", "placeholder", "global_variables_initializer", "get_variable",
              "variable_scope", "ConfigProto", "Graph", "get_default_graph", "reset_default_graph",
              "enable_eager_execution", "disable_eager_execution", "disable_v2_behavior"):
    LEFT_OUT[_name] = _TF1


def missing(name: str, top: ModuleType, namespaces: dict[str, ModuleType]) -> AttributeError:
    """The AttributeError for ``tf.<name>``, which ``top`` (tapegrad) lacks; ``namespaces``: tf.math, tf.nn, ...

    >>> import tapegrad as tf
    >>> from tapegrad._missing import missing
    >>> print(missing("relu", tf, {"nn": tf.nn}))
    module 'tapegrad' has no attribute 'relu': tapegrad does not provide tf.relu; it has tf.nn.relu
    """
    head = f"module {top.__name__!r} has no attribute {name!r}"
    if name.startswith("_"):
        return AttributeError(head)
    if name in LEFT_OUT:
        what, instead = LEFT_OUT[name]
        return AttributeError(f"{head}: tf.{name} is {what}, which tapegrad leaves out; {instead}")
    elsewhere = [f"tf.{p}.{name}" for p, m in namespaces.items() if name in m.__dict__]
    if elsewhere:
        return AttributeError(f"{head}: tapegrad does not provide tf.{name}; it has {' and '.join(elsewhere)}")
    known = {n: f"{p}.{n}" for p, m in reversed(namespaces.items()) for n in m.__dict__ if not n.startswith("_")}
    known.update((n, n) for n in top.__dict__ if not n.startswith("_"))  # the top level first: tf.exp, not tf.math.exp
    folded = {n.lower(): q for n, q in known.items()}  # tf.variable: tf.Variable
    close = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.8)
    hint = f"; did you mean tf.{folded[close[0]]}?" if close else " (see the README's coverage table)"
    return AttributeError(f"{head}: tapegrad does not provide tf.{name}{hint}")
