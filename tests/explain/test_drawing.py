"""tape.graph draws itself: the layered layout, the SVG, the PNG/PDF, the text tree; Graphviz is an option."""
import random
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.explain import draw
from tapegrad.explain.layout import _isotonic, crossings, layout
from tests.optional import needs

SVG = "{http://www.w3.org/2000/svg}"


def seed():
    x = tg.Variable(20.0)
    b = tg.Variable(10.0)
    with tg.GradientTape(persistent=True) as tape:
        y = x ** 2 + b ** 2
    return tape, y, x, b


def mlp():
    """Two dense layers, relu, softmax cross-entropy written out, and an L2 penalty: about 30 ops."""
    rng = np.random.default_rng(0)
    X = tg.constant(rng.normal(size=(4, 3)).astype("float32"))
    labels = tg.constant(np.eye(3, dtype="float32")[[0, 2, 1, 0]])
    W1 = tg.Variable(rng.normal(size=(3, 5)).astype("float32"))
    b1 = tg.Variable(np.zeros(5, "float32"))
    W2 = tg.Variable(rng.normal(size=(5, 3)).astype("float32"))
    b2 = tg.Variable(np.zeros(3, "float32"))
    params = [W1, b1, W2, b2]
    with tg.GradientTape(persistent=True) as tape:
        h = tg.nn.relu(tg.matmul(X, W1) + b1)
        logits = tg.matmul(h, W2) + b2
        z = logits - tg.stop_gradient(tg.reduce_max(logits, axis=1, keepdims=True))
        e = tg.exp(z)
        p = e / tg.reduce_sum(e, axis=1, keepdims=True)
        ce = -tg.reduce_sum(labels * tg.math.log(p), axis=1)
        l2 = tg.add_n([tg.reduce_sum(w ** 2) for w in params])
        loss = tg.reduce_mean(ce) + 1e-3 * l2
    return tape, loss, params, h


def overlaps(lay):
    boxes = lay.boxes()
    bad = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            if a[0] < b[2] - 1e-6 and b[0] < a[2] - 1e-6 and a[1] < b[3] - 1e-6 and b[1] < a[3] - 1e-6:
                bad.append((i, j))
    return bad


# ---- layout -------------------------------------------------------------------------------------
def random_dag(rng, n):
    edges = [(u, v) for v in range(n) for u in range(v) if rng.random() < 2.5 / (v + 1)]
    sizes = [(rng.uniform(20, 140), rng.uniform(14, 60)) for _ in range(n)]
    return sizes, edges


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_layout_of_random_dags_has_no_overlaps_and_edges_go_forward(rankdir):
    rng = random.Random(7)
    for n in (1, 2, 5, 12, 30):
        sizes, edges = random_dag(rng, n)
        lay = layout(sizes, edges, rankdir=rankdir)
        assert overlaps(lay) == []
        axis = 0 if rankdir == "LR" else 1
        for (u, v), pts in zip(edges, lay.edges):
            assert lay.layers[v] > lay.layers[u]
            assert lay.centers[v][axis] > lay.centers[u][axis]
            coords = [p[axis] for p in pts]
            assert coords == sorted(coords)  # the route runs along the rank direction, never back
        for (x, y), (w, h) in zip(lay.centers, lay.sizes):
            assert 0 <= x - w / 2 and x + w / 2 <= lay.width and 0 <= y - h / 2 and y + h / 2 <= lay.height


def test_layout_untangles_crossed_edges_and_puts_leaves_next_to_their_use():
    # 0 -> 3 and 1 -> 2 cross in the order the nodes came; 4 is used only at the last layer
    lay = layout([(30, 20)] * 6, [(0, 3), (1, 2), (2, 5), (3, 5), (4, 5)])
    assert lay.layers[4] == lay.layers[5] - 1
    rows = {}
    for v, k in enumerate(lay.layers):
        rows.setdefault(k, []).append(v)
    ordered = [sorted(r, key=lambda v: lay.centers[v][1]) for _, r in sorted(rows.items())]
    succ = {0: [3], 1: [2], 2: [5], 3: [5], 4: [5]}
    assert crossings(ordered, succ) == 0


def test_crossings_count_matches_checking_every_pair():
    rng = random.Random(3)
    for _ in range(30):
        upper, lower = list(range(6)), list(range(6, 12))
        rng.shuffle(upper)
        rng.shuffle(lower)
        succ = {u: rng.sample(range(6, 12), rng.randint(0, 3)) for u in range(6)}
        pos_u = {v: i for i, v in enumerate(upper)}
        pos_l = {v: i for i, v in enumerate(lower)}
        ends = [(pos_u[u], pos_l[v]) for u in upper for v in succ[u]]
        brute = sum((a[0] - b[0]) * (a[1] - b[1]) < 0 for i, a in enumerate(ends) for b in ends[i + 1:])
        assert crossings([upper, lower], succ) == brute


def test_isotonic_placement_keeps_the_gaps_and_is_exact_when_it_can_be():
    assert _isotonic([0.0, 50.0, 100.0], [10.0, 10.0]) == [0.0, 50.0, 100.0]
    p = _isotonic([5.0, 5.0, 5.0], [10.0, 20.0])
    assert p[1] - p[0] == pytest.approx(10.0) and p[2] - p[1] == pytest.approx(20.0)
    assert sum(p) / 3 == pytest.approx(5.0)  # least squares: the block is centred on what was wanted


def test_layout_rejects_cycles_and_unknown_directions():
    with pytest.raises(ValueError, match="cycle"):
        layout([(10, 10)] * 2, [(0, 1), (1, 0)])
    with pytest.raises(ValueError, match="'LR'"):
        layout([(10, 10)], [], rankdir="RL")


def test_mlp_graph_has_about_30_ops_and_no_overlapping_nodes():
    tape, loss, _, _ = mlp()
    for rankdir in ("LR", "TB"):
        g = tape.graph(loss, rankdir=rankdir)
        assert 25 <= len(g.model.ops) <= 40
        assert overlaps(g.placed().lay) == []


# ---- svg ----------------------------------------------------------------------------------------
def test_svg_of_the_seed_is_well_formed_and_shows_values_gradients_and_ops():
    tape, y, x, b = seed()  # (the names are read where graph() is called)
    svg = tape.graph(y).svg()
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    texts = [t.text for t in root.iter(SVG + "text")]
    for s in ("x", "b", "y", "value 20", "grad 40", "value 10", "grad 20", "value 500", "grad 1", "3: add"):
        assert s in texts
    assert len(list(root.iter(SVG + "ellipse"))) == 3  # the ops
    assert len([p for p in root.iter(SVG + "path") if p.get("class") == "edge"]) == 9
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0


def test_svg_escapes_text_and_each_drawing_has_its_own_marker_ids():
    nodes = [draw.Node("a", "value", ['<b> & "c"']), draw.Node("op", "op", ["1: f"])]
    placed = draw.place(nodes, [draw.Edge(0, 1, label="<&>")])
    one, two = draw.to_svg(placed), draw.to_svg(placed)
    assert ET.fromstring(one).find(f".//{SVG}text").text == '<b> & "c"'
    ids = {m.get("id") for m in ET.fromstring(one).iter(SVG + "marker")}
    assert ids.isdisjoint({m.get("id") for m in ET.fromstring(two).iter(SVG + "marker")})


def test_notebooks_and_render_draw_without_graphviz(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    tape, y, _, _ = seed()
    g = tape.graph(y)
    assert g._repr_svg_().startswith("<svg")
    assert g.render(tmp_path / "seed.svg").read_text().startswith("<svg")
    with pytest.raises(RuntimeError, match="Graphviz program"):
        g.render(tmp_path / "seed-dot.svg", engine="dot")
    with pytest.raises(ValueError, match="engine"):
        g.pipe("svg", engine="neato")
    with pytest.raises(ValueError, match="svg, png and pdf"):
        g.pipe("gif")


@needs("matplotlib")
def test_png_and_pdf_through_matplotlib(tmp_path):
    tape, y, _, _ = seed()
    g = tape.graph(y)
    assert g.render(tmp_path / "seed.png").read_bytes()[:4] == b"\x89PNG"
    assert g.render(tmp_path / "seed.pdf").read_bytes()[:4] == b"%PDF"


def test_png_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    tape, y, _, _ = seed()
    with pytest.raises(ImportError, match=r"tapegrad\[plot\]"):
        tape.graph(y).pipe("png")
    assert tape.graph(y).svg().startswith("<svg")  # SVG needs nothing


# ---- text ---------------------------------------------------------------------------------------
def test_print_shows_a_text_tree_and_source_stays_dot():
    tape, y, x, b = seed()
    g = tape.graph(y)
    assert str(g).splitlines() == [
        "y = add (op 3): value 500, grad 1",
        "├── pow (op 1): value 400, grad 1",
        "│   ├── x (watched): value 20, grad 40",
        "│   └── const: value 2",
        "└── pow (op 2): value 100, grad 1",
        "    ├── b (watched): value 10, grad 20",
        "    └── const: value 2",
    ]
    assert g.source.startswith("digraph tape {")
    assert "3 ops" in repr(g)


def test_text_tree_writes_a_shared_value_once():
    x = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        s = tg.sin(x)
        y = s * s + x
    lines = tape.graph(y).text().splitlines()
    assert sum("sin (op 1):" in line for line in lines) == 1
    assert sum("s (above)" in line for line in lines) == 1
    assert sum("x (watched)" in line for line in lines) == 1 and sum("x (above)" in line for line in lines) == 1


def test_array_nodes_show_shape_and_a_summary():
    tape, loss, params, _ = mlp()
    svg = tape.graph(loss).svg()
    texts = [t.text for t in ET.fromstring(svg).iter(SVG + "text")]
    assert "shape (3, 5)" in texts and "shape (4, 5)" in texts
    assert any(t.startswith("grad mean ") for t in texts)
    assert "1: matmul" in texts and "3: relu" in texts
