"""Prints the side-by-side table of bench/run.sh from the files it wrote in bench/out/."""
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
    return wall, rss


def agreement(workload):
    ours = json.load(open(f"{OUT}/{workload}/report.json"))["trials"]
    theirs = json.load(open(f"{OUT}/{workload}.sklearn.json"))
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


print("| workload | runner wall | scikit-learn wall | speed-up | runner peak RSS | scikit-learn peak RSS | metrics |")
print("|---|---:|---:|---:|---:|---:|---|")
for w in sys.argv[1:]:
    rw, rr = time_file(f"{OUT}/{w}.runner.time")
    sw, sr = time_file(f"{OUT}/{w}.sklearn.time")
    print(f"| {w} | {rw:.2f} s | {sw:.2f} s | {sw / rw:.1f}× | {rr / 1024:.0f} MiB | {sr / 1024:.0f} MiB | {agreement(w)} |")
try:
    boston = [float(x) for x in open(f"{OUT}/boston.times").read().split()]
    print(f"\n`runner experiments/boston.toml`: median {statistics.median(boston) * 1000:.0f} ms wall over {len(boston)} runs")
except FileNotFoundError:
    pass
