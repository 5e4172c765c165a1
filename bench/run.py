"""tapegrad's benchmarks: each workload against a same-process floor, and the peers when importable.

    python bench/run.py                      # everything (`make bench`)
    python bench/run.py --only idiom,hessian # some workloads (keys: seed idiom compiled expr20 second
                                             #   logistic logistic_loss mlp mlp_unfused mlp_compiled
                                             #   hessian hessian_compiled hessian_nested jacfwd
                                             #   minimize import)
    python bench/run.py --no-peers           # tapegrad and the floor only
    python bench/run.py --rounds 21          # more samples per timing (default 11)
    python bench/run.py --markdown           # the tables as Markdown (README's performance table)

Every row ends with its target and verdict: "met" or "MISSED" with the numbers that decided it, or
"?" when a peer it is judged against (JAX for the Hessian, torch for the MLP) was not measured.

Times are medians over interleaved rounds after warm-up: tapegrad and the floor take turns, so
load from other processes hits both alike. The ratio is tapegrad's median over the floor's,
measured in the same process. Peak memory is tracemalloc's peak during one unit of work over what
was allocated before it (the data both sides share is not counted).

Each peer (torch, JAX, autograd, MyGrad, TensorFlow) runs in a process of its own, again interleaved
with the floor, so their thread pools cannot slow tapegrad's numbers; a peer that is not importable is
skipped, and its result is checked against the floor's (a slow peer's shorter loop against the floor's
loop of that length). tracemalloc sees NumPy's allocations, not those of torch, JAX or TensorFlow ("-").
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")
sys.path.insert(0, HERE)
sys.path.insert(0, SRC)

import peers  # noqa: E402
from workloads import WORKLOADS, Workload  # noqa: E402

NUMPY_MEMORY = {"tapegrad", "floor", "autograd", "mygrad"}  # whose allocations tracemalloc sees
IMPORT_LIMIT_MS = 50.0  # the target for `import tapegrad` after `import numpy`


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))


def import_cost(runs: int = 9) -> float:
    """Median milliseconds `import tapegrad` adds to a process that has imported numpy.

    Measured with the bytecode cache an installed package has: a first run writes the ``__pycache__``
    files, even where PYTHONDONTWRITEBYTECODE is set (without them each import compiles every module,
    which costs several times more).
    """
    code = "import time, numpy; t = time.perf_counter(); import tapegrad; print(time.perf_counter() - t)"
    env = _env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.check_output([sys.executable, "-c", code], env=env)
    times = [float(subprocess.check_output([sys.executable, "-c", code], env=env)) for _ in range(runs)]
    return statistics.median(times) * 1e3


def time_once(fn: Callable[[], Any]) -> float:
    # The garbage collector stays on: collections a library causes are part of its cost.
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def peak_memory(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak - before


def close(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    try:
        return bool(np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=2e-3, atol=1e-5))
    except (TypeError, ValueError):
        return False


def per_step_data(build: Callable[[dict], Callable[[], Any]], data: dict, wl: Workload, budget: float) -> dict:
    """``data`` with a step count that makes one sample take about ``budget`` seconds (slow peers)."""
    fn = build(dict(data, steps=50))
    fn()
    per_step = max(time_once(fn) / 50, 1e-9)
    return dict(data, steps=int(min(wl.steps, max(50, budget / per_step))))


def measure(wl: Workload, builders: dict, rounds: int, with_memory: bool) -> dict:
    """Median microseconds per step or call of each implementation, its peak memory, and notes."""
    data = wl.data()
    fns: dict[str, Callable[[], Any]] = {}
    results: dict[str, Any] = {}
    steps: dict[str, int] = {}
    notes: list[str] = []
    for name, build in builders.items():
        try:
            d = data if name in wl.impls or wl.per == "call" else per_step_data(build, data, wl, 0.3)
            fn = build(d)
            results[name] = fn()  # warm-up (and tg.function's trace)
            fn()
        except Exception as e:  # a peer that cannot run a workload is reported, not fatal
            if name in wl.impls:
                raise
            notes.append(f"{name}: skipped ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
            continue
        fns[name] = fn
        steps[name] = d.get("steps", 1) if wl.per == "step" else 1
    for name, result in results.items():
        # A shorter loop (a slow peer's) ends elsewhere: it is checked against the floor's loop of its length.
        ref = results["floor"] if steps[name] == steps["floor"] else wl.impls["floor"](dict(data, steps=steps[name]))()
        if name != "floor" and not close(result, ref):
            notes.append(f"{name}: result differs from the floor's")
    samples: dict[str, list[float]] = {n: [] for n in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(time_once(fn) / steps[name])
    medians = {n: statistics.median(s) * 1e6 for n, s in samples.items()}
    memory = {n: peak_memory(fns[n]) for n in fns if with_memory and n in NUMPY_MEMORY}
    return {"medians": medians, "memory": memory, "notes": notes}


def peer_main(label: str, keys: list[str], rounds: int) -> None:
    """Child process: one peer against the floor, as JSON lines on stdout."""
    for wl in WORKLOADS:
        table = peers.builders(wl.key, label)
        if wl.key not in keys or not table:
            continue
        (name,) = table
        try:
            res = measure(wl, {"floor": wl.impls["floor"], name: table[name]}, rounds, True)
        except Exception as e:  # a broken peer must not stop the others
            res = {"medians": {}, "memory": {}, "notes": [f"{name}: failed ({type(e).__name__}: {e})"]}
        print(json.dumps({"key": wl.key, "name": name, **res}), flush=True)


def run_peer(label: str, keys: list[str], rounds: int) -> list[dict]:
    cmd = [sys.executable, os.path.abspath(__file__), "--peer", label, "--only", ",".join(keys),
           "--rounds", str(rounds)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 and not rows:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return [{"key": k, "name": label, "medians": {}, "memory": {}, "notes": [f"{label}: failed ({tail[0]})"]}
                for k in keys]
    return rows


def fmt_time(us: float) -> str:
    if us < 1000:
        return f"{us:.3g} us" if us < 10 else f"{us:.1f} us"
    return f"{us / 1000:.3g} ms" if us < 1e6 else f"{us / 1e6:.3g} s"


def fmt_bytes(n: int) -> str:
    for unit, size in (("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


PEER_NAMES = {"jax jit": "JAX", "jax": "JAX", "torch": "torch", "autograd": "autograd", "mygrad": "MyGrad",
              "tensorflow": "TensorFlow"}


def verdict(wl: Workload, res: dict, peer_us: dict[str, float] | None) -> tuple[bool | None, str]:
    """(met?, words) for one workload's targets: None when it has none, or when a peer it is judged
    against was not measured. ``peer_us`` is each peer's median in the unit of the row (None: peers not run)."""
    tg_us, floor_us = res["medians"]["tapegrad"], res["medians"]["floor"]
    checks: list[tuple[bool, str]] = []
    if wl.limit_us is not None:
        checks.append((tg_us <= wl.limit_us, fmt_time(tg_us)))
    if wl.limit_ratio is not None:
        r = tg_us / floor_us
        checks.append((r <= wl.limit_ratio, f"{r:.2f}x"))
    mem = res["memory"]
    if wl.limit_memory is not None and mem.get("floor"):
        r = mem["tapegrad"] / mem["floor"]
        checks.append((r <= wl.limit_memory, f"memory {r:.2f}x"))
    unknown = []
    for peer, limit in wl.limit_peer.items():
        shown = PEER_NAMES.get(peer, peer)
        if peer_us is None:
            unknown.append(f"{shown}: peers not run")
        elif peer not in peer_us:
            unknown.append(f"{shown} not installed" if importlib.util.find_spec(peers.LIBS[peer.split()[0]]) is None
                           else f"{shown} failed")
        else:
            r = tg_us / peer_us[peer]
            checks.append((r <= limit, f"{r:.2f}x {shown}"))
    if not checks and not unknown:
        return None, "(reported)"
    ok = all(c for c, _ in checks)
    words = ", ".join(w for _, w in checks)
    if unknown and ok:  # what was measured is met, but the peer's part is unknown
        return None, "? " + ", ".join(([f"met ({words})"] if words else []) + unknown)
    return ok, f"{'met' if ok else 'MISSED'} ({words})" + "".join(f", {u}" for u in unknown)


PEER_COLUMNS = {"torch": "torch", "jax": "JAX (jit)", "autograd": "autograd", "mygrad": "MyGrad",
                "tensorflow": "TensorFlow"}


def peer_cell(label: str, key: str, rows: list[dict]) -> str:
    """One peer's time on one workload, for the Markdown table; how it ran when that is not the column's way."""
    for r in rows:
        name = r["name"]
        if r["key"] == key and name.split()[0] == label and name in r["medians"]:
            how = {"jax": " (eager)", "tensorflow function": " (tf.function)"}.get(name, "")
            return fmt_time(r["medians"][name]) + how
    return ""


def table(rows: list[list[str]], header: list[str], markdown: bool, right: set[int]) -> str:
    """Fixed-width text (``right``: the columns aligned right), or Markdown."""
    if markdown:
        lines = [header, ["---"] * len(header), *rows]
        return "\n".join("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(header), "-" * len(line(header)), *map(line, rows)])


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated workload keys (and 'import')")
    ap.add_argument("--rounds", type=int, default=11, help="timed samples per implementation (median taken)")
    ap.add_argument("--no-peers", action="store_true", help="skip torch, jax, autograd, mygrad, tensorflow")
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown (README's performance table)")
    ap.add_argument("--peer", help=argparse.SUPPRESS)  # internal: run one peer in this process
    args = ap.parse_args(argv)
    keys = [w.key for w in WORKLOADS] + ["import"] if not args.only else args.only.split(",")
    chosen = [w for w in WORKLOADS if w.key in keys]
    if not chosen and "import" not in keys:
        ap.error(f"--only: no workload among {', '.join(w.key for w in WORKLOADS)}, import")
    if args.peer:
        peer_main(args.peer, keys, args.rounds)
        return 0

    import tapegrad
    print(f"tapegrad {tapegrad.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores; medians of {args.rounds} interleaved rounds\n")
    ours: dict[str, dict] = {}
    notes: list[str] = []
    for wl in chosen:
        progress(f"measuring {wl.key} ...")
        res = ours[wl.key] = measure(wl, dict(wl.impls), args.rounds, not args.no_memory)
        notes += [f"{wl.key}: {n}" for n in res["notes"]]
        unit = "/step" if wl.per == "step" else ""
        for name, us in res["medians"].items():  # other settings measured beside tapegrad (e.g. record=False)
            if name not in ("tapegrad", "floor"):
                med = res["medians"]
                notes.append(f"{wl.key}: {name} {fmt_time(us)}{unit}: tapegrad is {med['tapegrad'] / us:.2f}x this, "
                             f"the floor {med['floor'] / us:.2f}x")

    peer_rows: list[dict] = []
    peer_note = ""
    if args.no_peers:
        peer_note = "peers not run (--no-peers)"
    elif chosen:
        present = [p for p in peers.LIBS if importlib.util.find_spec(peers.LIBS[p]) is not None]
        missing = [p for p in peers.LIBS if p not in present]
        peer_note = (f"peers (each in its own process, against its own floor): {', '.join(present) or 'none'}"
                     + (f"; not installed, skipped: {', '.join(missing)}" if missing else ""))
        for p in present:
            progress(f"measuring {p} ...")
            peer_rows += run_peer(p, [w.key for w in chosen], args.rounds)

    header = ["workload", "tapegrad", "floor", "ratio", "peak mem tg / floor", "target", "verdict"]
    # In Markdown (README's table) each peer that ran is a column of its own, in the unit of the row.
    columns = [p for p in peers.LIBS if any(r["name"].split()[0] == p for r in peer_rows)] if args.markdown else []
    header += [PEER_COLUMNS[p] for p in columns]
    rows = []
    for wl in chosen:
        res = ours[wl.key]
        med, mem = res["medians"], res["memory"]
        unit = "/step" if wl.per == "step" else ""
        memtxt = f"{fmt_bytes(mem['tapegrad'])} / {fmt_bytes(mem['floor'])}" if "floor" in mem else "-"
        peer_us = None if args.no_peers else {r["name"]: r["medians"][r["name"]] for r in peer_rows
                                              if r["key"] == wl.key and r["name"] in r["medians"]}
        _, words = verdict(wl, res, peer_us)
        rows.append([wl.title, fmt_time(med["tapegrad"]) + unit, fmt_time(med["floor"]) + unit,
                     f"{med['tapegrad'] / med['floor']:.2f}x", memtxt, wl.target, words]
                    + [peer_cell(p, wl.key, peer_rows) for p in columns])
    if "import" in keys:
        progress("measuring import ...")
        cost = import_cost()
        words = f"{'met' if cost <= IMPORT_LIMIT_MS else 'MISSED'} ({cost:.1f} ms)"
        rows.append(["import tapegrad, after import numpy (bytecode cached)", f"{cost:.1f} ms", "-", "-", "-",
                     f"<= {IMPORT_LIMIT_MS:g} ms", words] + [""] * len(columns))
    print(table(rows, header, args.markdown, {1, 2, 3, 4}))

    if peer_note:
        print(f"\n{peer_note}")
    if peer_rows:
        prow = []
        for wl in chosen:
            unit = "/step" if wl.per == "step" else ""
            for row in (r for r in peer_rows if r["key"] == wl.key):
                notes += [f"{wl.key}: {n}" for n in row["notes"]]
                med = row["medians"]
                if row["name"] not in med:
                    continue
                us = med[row["name"]]
                mem = row["memory"].get(row["name"])
                prow.append([wl.title, row["name"], fmt_time(us) + unit, f"{us / med['floor']:.2f}x",
                             f"{us / ours[wl.key]['medians']['tapegrad']:.2f}x", fmt_bytes(mem) if mem else "-"])
        if prow:
            print(table(prow, ["workload", "peer", "time", "/ its floor", "/ tapegrad", "peak mem"], args.markdown,
                        {2, 3, 4, 5}))
    if notes:
        print("\nnotes:\n  " + "\n  ".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
