"""tg.Module and tg.name_scope: TensorFlow's attribute walk and naming (expected orders recorded with TF 2.21)."""
import pytest

import tapegrad as tg


class Dense(tg.Module):
    def __init__(self, n_in, n_out, name=None):
        super().__init__(name=name)
        self.w = tg.Variable(tg.ones((n_in, n_out)), name="w")
        self.b = tg.Variable(tg.zeros((n_out,)), name="b")
        self.frozen = tg.Variable(1.0, trainable=False, name="frozen")

    def __call__(self, x):
        return x @ self.w + self.b


class MLP(tg.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.z_layer = Dense(2, 3, name="z")
        self.a_layers = [Dense(3, 3, name="inner"), (Dense(3, 1, name="d1"),)]
        self.cfg = {"k": tg.Variable(2.0, name="k"), "a": tg.Variable(3.0, name="a")}
        self._private = tg.Variable(5.0, name="priv")
        self.t = tg.constant(1.0)
        self.back = self  # a cycle: walked once

    def __call__(self, x):
        h = self.z_layer(x)
        h = self.a_layers[0](h)
        return self.a_layers[1][0](h) * self.cfg["k"] + self.cfg["a"] + self._private


def test_variables_and_submodules_come_in_tensorflows_order():
    m = MLP()
    # Printed by the same classes under TensorFlow 2.21: own attributes by name (dicts by key), then submodules.
    assert [v.name for v in m.trainable_variables] == ["priv:0", "a:0", "k:0"] + ["b:0", "w:0"] * 3
    assert [v.name for v in m.variables] == ["priv:0", "a:0", "k:0"] + ["b:0", "frozen:0", "w:0"] * 3
    assert [v.name for v in m.non_trainable_variables] == ["frozen:0"] * 3
    assert [s.name for s in m.submodules] == ["inner", "d1", "z"]
    assert m.variables[3] is m.a_layers[0].b and m.variables[-1] is m.z_layer.w
    paths = [p for p, _ in m._flatten(predicate=lambda x: isinstance(x, tg.Variable), with_path=True)]
    assert paths[:4] == [("_private",), ("cfg", "a"), ("cfg", "k"), ("a_layers", 0, "b")]
    assert isinstance(m.variables, tuple) and isinstance(m.submodules, tuple)


def test_a_variable_reachable_twice_counts_once():
    m = tg.Module()
    v = tg.Variable(1.0)
    m.a, m.b, m.c = v, [v], {"x": (v,)}
    assert m.variables == (v,)


def test_trainable_variables_are_what_a_tape_step_needs():
    m = MLP()
    x = tg.constant([[1.0, 2.0]])
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(m(x))
    grads = tape.gradient(loss, m.trainable_variables)
    assert len(grads) == 9 and all(g is not None for g in grads)
    assert float(grads[0]) == 1.0  # d loss / d priv


def test_names_follow_tensorflow():
    class LSTMCell2D(tg.Module):
        pass
    assert LSTMCell2D().name == "lstm_cell2_d" and tg.Module().name == "module" and MLP().name == "mlp"
    for bad in ("bad name", "1abc", "a/b"):
        with pytest.raises(ValueError, match="not a valid module name"):
            tg.Module(name=bad)


def test_name_scopes_nest_and_name_new_variables():
    with tg.name_scope("a") as s:
        assert s == "a/" and tg.Variable(1.0).name == "a/Variable:0"
        with tg.name_scope("b") as s2:
            assert s2 == "a/b/" and tg.Variable(1.0, name="v").name == "a/b/v:0"
            with tg.name_scope("x/") as s3:  # a full scope
                assert s3 == "x/"
            with tg.name_scope("") as s4:  # back to the top
                assert s4 == "" and tg.Variable(1.0).name == "Variable:0"
        m = tg.Module(name="mm")
        assert m.name_scope.name == "a/mm/"
    with m.name_scope as s5:
        assert s5 == "a/mm/" and tg.Variable(1.0).name == "a/mm/Variable:0"
    assert tg.Variable(1.0).name == "Variable:0"
    with pytest.raises(ValueError, match="must be a string"):
        tg.name_scope(None)


def test_with_name_scope_names_variables_made_in_a_method():
    class Lazy(tg.Module):
        @tg.Module.with_name_scope
        def __call__(self, x):
            if not hasattr(self, "w"):
                self.w = tg.Variable(x, name="w")
            return self.inner(x)

        @tg.Module.with_name_scope
        def inner(self, x):  # re-entering the same scope from inside it
            return x * self.w

    m = Lazy(name="zz")
    assert float(m(tg.constant(2.0))) == 4.0
    assert m.w.name == "zz/w:0" and m.variables == (m.w,)


def test_forgetting_super_init_is_explained():
    class NoInit(tg.Module):
        def __init__(self):
            self.v = tg.Variable(1.0)
    m = NoInit()
    assert m.variables == (m.v,)
    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        m.name  # noqa: B018
