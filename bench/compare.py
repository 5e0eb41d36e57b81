"""Prints the side-by-side table of bench/run.sh from the files it wrote in bench/out/: each
workload cold (`W`) and warm (`W.warm`, another grid, the parsed data from the cache)."""
import json
import re
import statistics
import sys

OUT = "bench/out"


def time_file(path):
    text = open(path).read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", text).group(1)) for k in ("User", "System"))
    return wall, rss, cpu


def agreement(workload, run):
    ours = json.load(open(f"{OUT}/{run}/report.json"))["trials"]
    theirs = json.load(open(f"{OUT}/{run}.sklearn.json"))
    if workload in ("lasso", "enet"):
        worst = max(abs(a - b) / b for t, ref in zip(ours, theirs["mse"]) for a, b in zip(t["test"]["mse"]["folds"], ref))
        return f"fold MSE max rel. diff {worst:.1e}" + (" ✓" if worst <= 1e-4 else " ✗")
    if workload in ("logistic_cv", "logistic_mc"):
        worst = max(abs(a - b) for t, ref in zip(ours, theirs["log_loss"]) for a, b in zip(t["test"]["log_loss"]["folds"], ref))
        return f"fold log-loss max diff {worst:.1e}" + (" ✓" if worst <= 1e-4 else " ✗")
    if workload in ("ridge", "ridge_stripped", "svr"):
        worst = max(abs(a - b) / b for t, ref in zip(ours, theirs["mse"]) for a, b in zip(t["test"]["mse"]["folds"], ref))
        return f"fold MSE max rel. diff {worst:.1e}" + (" ✓" if worst <= 1e-8 else " ✗")
    if workload == "svm":
        same = all(t["test"]["accuracy"]["folds"] == ref for t, ref in zip(ours, theirs["accuracy"]))
        best = max(statistics.mean(t["test"]["accuracy"]["folds"]) for t in ours)
        return f"{len(ours)} trials, best mean accuracy {best:.4f}, " + ("every fold equal ✓" if same else "folds differ ✗")
    if workload == "mlp":
        a = statistics.mean(ours[0]["test"]["accuracy"]["folds"])
        b = statistics.mean(theirs["accuracy"][0])
        same = ours[0]["test"]["accuracy"]["folds"] == theirs["accuracy"][0]
        note = "equal per fold ✓" if same else "differ (different initialisation)" if workload == "mlp" else "differ"
        return f"mean accuracy {a:.4f} vs {b:.4f}, {note}"
    acc = all(t["test"]["accuracy"]["folds"] == ref for t, ref in zip(ours, theirs["accuracy"]))
    ll = max(abs(a - b) for t, ref in zip(ours, theirs["log_loss"]) for a, b in zip(t["test"]["log_loss"]["folds"], ref))
    return f"accuracy {'equal ✓' if acc else 'differs ✗'}, log-loss max diff {ll:.1e}" + (" ✓" if ll <= 1e-4 else " ✗")


def side(run):
    """(runner wall, scikit-learn wall, runner RSS, scikit-learn RSS, cache use, runner CPU, scikit-learn
    CPU) of one run, or None."""
    try:
        rw, rr, rc = time_file(f"{OUT}/{run}.runner.time")
        sw, sr, sc = time_file(f"{OUT}/{run}.sklearn.time")
    except FileNotFoundError:
        return None
    cache = json.load(open(f"{OUT}/{run}/report.json"))["run"].get("data_cache", "?")
    return rw, sw, rr, sr, cache, rc, sc


def cells(workload, run):
    s = side(run)
    if s is None:
        return ["—"] * 4
    rw, sw, rr, sr, cache, rc, sc = s
    # CPU time (user + system) too: on a loaded machine it is the fairer comparison.
    return [f"{rw:.2f} s / {sw:.2f} s (CPU {rc:.2f} / {sc:.2f} s)", f"{sw / rw:.1f}×", f"{rr / 1024:.0f} / {sr / 1024:.0f} MiB",
            f"{agreement(workload, run)} (cache {cache})"]


print("| workload | cold: runner / scikit-learn | speed-up | peak RSS | agreement | "
      "warm: runner / scikit-learn | speed-up | peak RSS | agreement |")
print("|---|---:|---:|---:|---|---:|---:|---:|---|")
for w in sys.argv[1:]:
    print("| " + " | ".join([w] + cells(w, w) + cells(w, f"{w}.warm")) + " |")
if {"ridge", "ridge_stripped"} <= set(sys.argv[1:]):
    ratios = []
    for suffix in ("", ".warm"):
        d, s = side(f"ridge{suffix}"), side(f"ridge_stripped{suffix}")
        ratios.append(f"{d[0]:.2f} s / {s[0]:.2f} s = {d[0] / s[0]:.2f}" if d and s else "—")
    print(f"\ndefault report / stripped report (ridge, runner wall): cold {ratios[0]}, warm {ratios[1]}")
try:
    boston = [float(x) for x in open(f"{OUT}/boston.times").read().split()]
    print(f"\n`runner experiments/boston.toml`: median {statistics.median(boston) * 1000:.0f} ms wall over {len(boston)} runs")
except FileNotFoundError:
    pass
