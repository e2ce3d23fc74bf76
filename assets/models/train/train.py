#!/usr/bin/env python3
"""Rebuild the arousal model `stress-lr` from the Stress-Predict data set.

    python3 assets/models/train/train.py PATH/TO/stress_predict_e4

(or `assets/models/train/rebuild.sh PATH`, which first makes a virtual environment with the
pinned requirements). Steps:

1. Features: `isochord features` (the project's own Rust feature code, the code the engine
   runs live) on each subject's E4 folder, 60 s windows every 5 s, with the per-second labels
   joined (`--labels`) and the baseline taken as the engine does by default: the first 300 s
   of the recording, which lies inside the protocol's resting baseline for every subject
   (the first task starts 561 s or later).
2. Leave-one-subject-out evaluation of the model and of an HR-only baseline: balanced
   accuracy, F1, ROC AUC and expected calibration error, per subject and pooled.
3. The final model on all subjects, with Platt calibration fitted on subject-grouped
   out-of-fold scores, exported to ONNX (Clip, Gemm, Softmax; scaling and calibration
   folded into the Gemm) with the contract in the metadata.
4. Test vectors (inputs and the expected probabilities computed here in float64) for the
   Rust tests, and the metrics in stress-lr.metrics.json and in the model card.

Nothing here computes a feature: every number the model sees comes from the Rust code.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[3]
NAME = "stress-lr"
VERSION = "1.0.0"
# Inputs: baseline z-scores of these features (FeatureWindow::relative), in this order.
FEATURES = ["mean_hr", "eda_tonic", "scr_rate"]
UNITS = ["/min", "uS", "/min"]
CLASSES = ["calm", "aroused"]
CLIP = 5.0  # z-scores are clipped to ±CLIP before the linear layer
WINDOW_S, HOP_S = 60.0, 5.0
BASELINE = "first 300 s of the session; z-score (value - mean) / max(sd, 5 % of |mean|)"
MIN_PURITY = 0.99  # windows lying within one labelled phase
MIN_QUALITY = 0.4
MIN_CONFIDENCE = 0.2
ECE_BINS = 10
LABELS_FILE = "Processed_data/Improved_All_Combined_hr_rsp_binary.csv"


def run_features(isochord, data, work):
    """Feature tables of every labelled subject, from the Rust binary."""
    labels = data / LABELS_FILE
    subjects = sorted({int(line.split(",")[0]) for line in labels.read_text().splitlines()[1:] if line})
    tables = {}
    for n in subjects:
        sid = f"S{n:02d}"
        folder = data / "Raw_data" / sid
        if not folder.is_dir():
            print(f"  {sid}: no E4 folder, skipped")
            continue
        out = work / f"{sid}.csv"
        subprocess.run(
            [str(isochord), "features", "--quiet", "--input", str(folder), "--format", "e4",
             "--window", str(WINDOW_S), "--hop", str(HOP_S),
             "--labels", str(labels), "--labels-subject", str(n), "--out", str(out)],
            check=True,
        )
        tables[sid] = read_table(out)
    return tables


def read_table(path):
    lines = path.read_text().splitlines()
    head = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    cols = {}
    for i, h in enumerate(head):
        vals = [r[i] for r in rows]
        if h == "label":
            cols[h] = np.array([int(v) if v else -1 for v in vals])
        else:
            cols[h] = np.array([float(v) if v else np.nan for v in vals])
    return cols


def stack(tables):
    """Windows with every model input present and a pure label: X (z-scores), y, subject."""
    xs, ys, gs, hr = [], [], [], []
    for sid, t in tables.items():
        x = np.column_stack([t[f"rel_{f}"] for f in FEATURES])
        ok = np.isfinite(x).all(axis=1) & (t["label"] >= 0) & (t["label_purity"] >= MIN_PURITY)
        xs.append(x[ok])
        ys.append(t["label"][ok])
        gs += [sid] * int(ok.sum())
    return np.vstack(xs), np.concatenate(ys), np.array(gs)


class Model:
    """Clip → standardise → logistic regression → Platt, all in float64."""

    def __init__(self, x, y, groups, columns=None, mlp=False):
        self.columns = columns if columns is not None else list(range(x.shape[1]))
        self.mlp = mlp
        self.scaler, self.clf = self._fit(x, y)
        # Platt on out-of-subject scores: grouped 5-fold within the training subjects
        oof = np.zeros(len(y))
        for tr, te in GroupKFold(n_splits=5).split(x, y, groups):
            s, c = self._fit(x[tr], y[tr])
            oof[te] = self._score(s, c, x[te])
        self.platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof[:, None], y)

    def _prep(self, x):
        return np.clip(x[:, self.columns], -CLIP, CLIP)

    def _fit(self, x, y):
        z = self._prep(x)
        scaler = StandardScaler().fit(z)
        if self.mlp:
            clf = MLPClassifier((8,), alpha=1e-2, max_iter=300, early_stopping=True, random_state=0)
        else:
            clf = LogisticRegression(C=1.0, max_iter=2000)
        return scaler, clf.fit(scaler.transform(z), y)

    def _score(self, scaler, clf, x):
        z = scaler.transform(self._prep(x))
        if self.mlp:
            p = np.clip(clf.predict_proba(z)[:, 1], 1e-6, 1 - 1e-6)
            return np.log(p / (1 - p))
        return clf.decision_function(z)

    def proba(self, x):
        """P(aroused), calibrated."""
        s = self._score(self.scaler, self.clf, x)
        return self.platt.predict_proba(s[:, None])[:, 1]

    def folded(self):
        """The whole chain after the clip as one logit: w·clip(x) + b."""
        a, c = self.platt.coef_[0, 0], self.platt.intercept_[0]
        w = self.clf.coef_[0] / self.scaler.scale_
        b = self.clf.intercept_[0] - np.sum(self.clf.coef_[0] * self.scaler.mean_ / self.scaler.scale_)
        return a * w, a * b + c


def ece(y, p, bins=ECE_BINS):
    """Expected calibration error of P(aroused): equal-width bins, weighted |mean p - rate|."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    e = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            e += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(e)


def scores(y, p):
    pred = (p >= 0.5).astype(int)
    tpr = pred[y == 1].mean() if (y == 1).any() else float("nan")
    tnr = 1 - pred[y == 0].mean() if (y == 0).any() else float("nan")
    both = (y == 1).any() and (y == 0).any()
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "auc": float(roc_auc_score(y, p)) if both else None,
        "balanced_accuracy": float((tpr + tnr) / 2) if both else None,
        "f1": float(f1_score(y, pred, zero_division=0)),
        "ece": ece(y, p),
    }


def loso(x, y, g, make):
    p = np.zeros(len(y))
    for s in np.unique(g):
        test = g == s
        m = make(x[~test], y[~test], g[~test])
        p[test] = m.proba(x[test])
    return p


def summary(x, y, g, p, label):
    per = {s: scores(y[g == s], p[g == s]) for s in np.unique(g)}
    pooled = scores(y, p)
    keys = ["auc", "balanced_accuracy", "f1", "ece"]
    across = {
        k: {
            "median": float(np.median([v[k] for v in per.values()])),
            "min": float(np.min([v[k] for v in per.values()])),
            "max": float(np.max([v[k] for v in per.values()])),
        }
        for k in keys
    }
    conf = np.abs(2 * p - 1)
    usable = conf >= MIN_CONFIDENCE
    print(
        f"  {label:<28} pooled AUC {pooled['auc']:.3f}  BA {pooled['balanced_accuracy']:.3f}  "
        f"F1 {pooled['f1']:.3f}  ECE {pooled['ece']:.3f}  | per-subject median AUC "
        f"{across['auc']['median']:.3f} (min {across['auc']['min']:.3f})"
    )
    out = {"pooled": pooled, "per_subject_summary": across, "per_subject": per}
    if usable.any():
        out["confident"] = {
            "min_confidence": MIN_CONFIDENCE,
            "coverage": float(usable.mean()),
            **scores(y[usable], p[usable]),
        }
    return out


RECOVERY_S = 180.0


def three_class_check(tables):
    """Does a calm / neutral / stressed split hold up? stressed = task windows; neutral =
    rest windows ending within RECOVERY_S (+ one window length) of a task window's end, the
    recovery; calm = the other rest windows. Multinomial LR on the same inputs, LOSO."""
    xs, ys, gs = [], [], []
    for sid, t in tables.items():
        x = np.column_stack([t[f"rel_{f}"] for f in FEATURES])
        last, y3 = -1e9, []
        for end, lab, pur in zip(t["end_s"], t["label"], t["label_purity"]):
            if lab == 1 and pur >= MIN_PURITY:
                last = end
            y3.append(2 if lab == 1 else (1 if end - last <= RECOVERY_S + WINDOW_S else 0))
        ok = np.isfinite(x).all(axis=1) & (t["label"] >= 0) & (t["label_purity"] >= MIN_PURITY)
        xs.append(x[ok])
        ys.append(np.array(y3)[ok])
        gs += [sid] * int(ok.sum())
    x, y, g = np.vstack(xs), np.concatenate(ys), np.array(gs)
    p = np.zeros((len(y), 3))
    for s in np.unique(g):
        test = g == s
        z = np.clip(x[~test], -CLIP, CLIP)
        sc = StandardScaler().fit(z)
        m = LogisticRegression(max_iter=3000).fit(sc.transform(z), y[~test])
        p[test] = m.predict_proba(sc.transform(np.clip(x[test], -CLIP, CLIP)))
    pred = p.argmax(axis=1)
    ba = float(np.mean([(pred[y == k] == k).mean() for k in range(3)]))
    out = {
        "classes": ["calm", "neutral", "stressed"],
        "neutral_definition": f"rest windows ending within {RECOVERY_S:g} s + one window of a task's end",
        "counts": [int((y == k).sum()) for k in range(3)],
        "balanced_accuracy": ba,
        "auc_one_vs_rest": [float(roc_auc_score(y == k, p[:, k])) for k in range(3)],
    }
    print(
        f"  3-class check (LOSO): balanced accuracy {ba:.3f} (chance 0.333), one-vs-rest AUC "
        + ", ".join(f"{c} {a:.3f}" for c, a in zip(out["classes"], out["auc_one_vs_rest"]))
    )
    return out


def export(model, path, metrics_line):
    w, b = model.folded()
    n = len(FEATURES)
    weight = np.zeros((n, 2), dtype=np.float32)  # logits [0, w·x + b]: softmax = [1 - p, p]
    weight[:, 1] = w
    bias = np.array([0.0, b], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Clip", ["features", "clip_min", "clip_max"], ["clipped"]),
            helper.make_node("Gemm", ["clipped", "weight", "bias"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        NAME,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, n])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 2])],
        initializer=[
            numpy_helper.from_array(np.array(-CLIP, dtype=np.float32), "clip_min"),
            numpy_helper.from_array(np.array(CLIP, dtype=np.float32), "clip_max"),
            numpy_helper.from_array(weight, "weight"),
            numpy_helper.from_array(bias, "bias"),
        ],
    )
    m = helper.make_model(
        graph,
        producer_name="isochord-train",
        producer_version=VERSION,
        opset_imports=[helper.make_opsetid("", 13)],
        doc_string=(
            "Arousal (calm vs aroused) from 60 s windows of wrist physiology, as baseline "
            "z-scores; logistic regression with Platt calibration. Not a diagnostic device."
        ),
    )
    m.ir_version = 8
    meta = {
        "isochord.contract": "1",
        "isochord.name": NAME,
        "isochord.version": VERSION,
        "isochord.features": ",".join(FEATURES),
        "isochord.units": ",".join(UNITS),
        "isochord.normalisation": "baseline_zscore",
        "isochord.baseline": BASELINE,
        "isochord.window_s": f"{WINDOW_S:g}",
        "isochord.hop_s": f"{HOP_S:g}",
        "isochord.classes": ",".join(CLASSES),
        "isochord.class_arousal": "0,1",
        "isochord.missing": "abstain",
        "isochord.min_quality": f"{MIN_QUALITY:g}",
        "isochord.min_confidence": f"{MIN_CONFIDENCE:g}",
        "isochord.training": (
            "Stress-Predict (Iqbal et al., Sensors 2022; MIT): Empatica E4 wrist, "
            "0 = baseline/relax, 1 = Stroop/interview/hyperventilation"
        ),
        "isochord.metrics_loso": metrics_line,
        "isochord.intended_use": "steering an adaptive soundscape; not a diagnostic device",
        "isochord.card": f"{NAME}.md",
    }
    helper.set_model_props(m, meta)
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return m


def test_vectors(model, x, rng):
    """Fixed inputs: real windows and a few edge cases (beyond the clip, zeros)."""
    pick = x[rng.choice(len(x), 40, replace=False)]
    n = len(FEATURES)
    edges = np.array(
        [np.zeros(n), np.full(n, 8.0), np.full(n, -8.0), np.array([3.0, -2.0, 0.5, -7.5])[:n],
         np.array([-0.25, 6.0, 1.5, 0.0])[:n]]
    )
    return np.vstack([pick, edges])


def test_excerpt(data, dest, seconds=1500):
    """A short E4 recording with labels for the `model eval` tests (subject 5, first 25 min)."""
    src = data / "Raw_data" / "S05"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ["EDA.csv", "HR.csv", "TEMP.csv"]:
        lines = (src / name).read_text().splitlines()
        rate = float(lines[1].split(",")[0])
        (dest / name).write_text("\n".join(lines[: 2 + int(seconds * rate)]) + "\n")
    lines = (src / "IBI.csv").read_text().splitlines()
    keep = [lines[0]] + [l for l in lines[1:] if float(l.split(",")[0]) < seconds]
    (dest / "IBI.csv").write_text("\n".join(keep) + "\n")
    start = float((src / "EDA.csv").read_text().split("\n", 1)[0].split(",")[0])
    rows = ["time,label"]
    for line in (data / LABELS_FILE).read_text().splitlines()[1:]:
        c = line.split(",")
        if c[0] == "5" and float(c[3]) < start + seconds:
            rows.append(f"{int(float(c[3]))},{c[4]}")
    (dest / "labels.csv").write_text("\n".join(rows) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="the stress_predict_e4 folder (Raw_data/, Processed_data/)")
    ap.add_argument("--isochord", type=Path, help="the isochord binary (default: build it with cargo)")
    ap.add_argument("--work", type=Path, help="folder for the feature tables (default: a temporary one)")
    args = ap.parse_args()
    data = args.data.resolve()
    if not (data / LABELS_FILE).exists():
        sys.exit(f"{data}: expected {LABELS_FILE} and Raw_data/ (the Stress-Predict data set)")
    isochord = args.isochord
    if isochord is None:
        subprocess.run(["cargo", "build", "--quiet", "-p", "isochord-cli"], cwd=ROOT, check=True)
        isochord = ROOT / "target" / "debug" / "isochord"
    work = args.work or Path(tempfile.mkdtemp(prefix="isochord-train-"))
    work.mkdir(parents=True, exist_ok=True)

    print(f"features ({isochord}) → {work}")
    tables = run_features(isochord, data, work)
    x, y, g = stack(tables)
    print(f"  {len(tables)} subjects, {len(y)} windows ({y.mean():.1%} aroused)")

    print("leave-one-subject-out")
    p_model = loso(x, y, g, lambda a, b, c: Model(a, b, c))
    p_hr = loso(x, y, g, lambda a, b, c: Model(a, b, c, columns=[0]))
    p_mlp = loso(x, y, g, lambda a, b, c: Model(a, b, c, mlp=True))
    metrics = {
        "model": NAME,
        "version": VERSION,
        "features": FEATURES,
        "windows": {"length_s": WINDOW_S, "hop_s": HOP_S, "min_label_purity": MIN_PURITY},
        "subjects": int(len(np.unique(g))),
        "n_windows": int(len(y)),
        "ece_bins": ECE_BINS,
        "threshold": 0.5,
        "loso": {
            NAME: summary(x, y, g, p_model, f"{NAME} (LR + Platt)"),
            "hr_only": summary(x, y, g, p_hr, "HR-only (LR + Platt)"),
            "mlp_8": summary(x, y, g, p_mlp, "MLP 8 hidden (+ Platt)"),
        },
    }

    metrics["three_class_check"] = three_class_check(tables)

    final = Model(x, y, g)
    metrics["in_sample"] = summary(x, y, g, final.proba(x), f"{NAME} in-sample")
    lo = metrics["loso"][NAME]["pooled"]
    line = (
        f"LOSO pooled over {metrics['subjects']} subjects: AUC {lo['auc']:.3f}, "
        f"balanced accuracy {lo['balanced_accuracy']:.3f}, F1 {lo['f1']:.3f}, ECE {lo['ece']:.3f}"
    )
    onnx_path = ROOT / "assets" / "models" / f"{NAME}.onnx"
    export(final, onnx_path, line)
    w, b = final.folded()
    metrics["folded"] = {"clip": CLIP, "weights": [float(v) for v in w], "bias": float(b)}

    # test vectors: expected outputs from the float64 pipeline above
    rng = np.random.default_rng(0)
    v = test_vectors(final, x, rng)
    p = final.proba(v)
    ref = ReferenceEvaluator(str(onnx_path))
    got = np.vstack([ref.run(None, {"features": r[None, :].astype(np.float32)})[0] for r in v])
    err = float(np.max(np.abs(got[:, 1] - p)))
    metrics["onnx_reference_max_error"] = err
    print(f"ONNX reference evaluator vs float64 pipeline: max |Δp| = {err:.2e}")
    tests = ROOT / "engine" / "tests" / "data" / "mood"
    tests.mkdir(parents=True, exist_ok=True)
    with open(tests / "vectors.csv", "w") as f:
        f.write(",".join(FEATURES + ["p_" + c for c in CLASSES]) + "\n")
        for r, q in zip(v, p):
            f.write(",".join(repr(float(a)) for a in r) + f",{float(1 - q)!r},{float(q)!r}\n")
    test_excerpt(data, tests / "S05_excerpt")

    with open(ROOT / "assets" / "models" / f"{NAME}.metrics.json", "w") as f:
        json.dump(metrics, f, indent=1)
        f.write("\n")
    update_card(metrics)
    print(f"wrote {onnx_path.relative_to(ROOT)}, its metrics, the card and the test vectors")


def update_card(m):
    """Rewrites the generated part of the model card."""
    card = ROOT / "assets" / "models" / f"{NAME}.md"
    if not card.exists():
        return
    text = card.read_text()
    begin, end = "<!-- metrics:begin -->", "<!-- metrics:end -->"
    if begin not in text or end not in text:
        return

    def row(name, s):
        p, a = s["pooled"], s["per_subject_summary"]
        return (
            f"| {name} | {p['auc']:.3f} | {p['balanced_accuracy']:.3f} | {p['f1']:.3f} | {p['ece']:.3f} "
            f"| {a['auc']['median']:.3f} ({a['auc']['min']:.3f}–{a['auc']['max']:.3f}) "
            f"| {a['balanced_accuracy']['median']:.3f} | {a['ece']['median']:.3f} |"
        )

    lo = m["loso"]
    lines = [
        begin,
        f"Generated by `train.py`: {m['subjects']} subjects, {m['n_windows']} windows of "
        f"{m['windows']['length_s']:g} s every {m['windows']['hop_s']:g} s lying within one labelled "
        f"phase, after the baseline; threshold 0.5 on P(aroused); ECE with {m['ece_bins']} equal-width bins.",
        "",
        "| model | AUC | balanced acc. | F1 | ECE | per-subject AUC median (min–max) | per-subject BA median | per-subject ECE median |",
        "|---|---|---|---|---|---|---|---|",
        row(f"**{m['model']}**, leave-one-subject-out", lo[m["model"]]),
        row("HR-only baseline, leave-one-subject-out", lo["hr_only"]),
        row("MLP, 8 hidden units, leave-one-subject-out", lo["mlp_8"]),
        row(f"{m['model']}, in-sample (all subjects)", m["in_sample"]),
        "",
    ]
    c = lo[m["model"]].get("confident")
    if c:
        lines.append(
            f"Estimates with confidence ≥ {c['min_confidence']} (|2p - 1|; the rest abstain): "
            f"{c['coverage']:.1%} of windows, balanced accuracy {c['balanced_accuracy']:.3f}, "
            f"AUC {c['auc']:.3f} (leave-one-subject-out)."
        )
        lines.append("")
    t = m.get("three_class_check")
    if t:
        aucs = ", ".join(f"{c} {a:.3f}" for c, a in zip(t["classes"], t["auc_one_vs_rest"]))
        lines.append(
            f"3-class check (calm / neutral / stressed; neutral = {t['neutral_definition']}; "
            f"{t['counts'][0]} / {t['counts'][1]} / {t['counts'][2]} windows), multinomial "
            f"regression on the same inputs, leave-one-subject-out: balanced accuracy "
            f"{t['balanced_accuracy']:.3f} (chance 0.333), one-vs-rest AUC {aucs}."
        )
        lines.append("")
    lines.append("Per subject (leave-one-subject-out):")
    lines.append("")
    lines.append("| subject | windows | aroused | AUC | balanced acc. | F1 | ECE | HR-only AUC |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for s, v in lo[m["model"]]["per_subject"].items():
        h = lo["hr_only"]["per_subject"][s]
        lines.append(
            f"| {s} | {v['n']} | {v['positives']} | {v['auc']:.3f} | {v['balanced_accuracy']:.3f} "
            f"| {v['f1']:.3f} | {v['ece']:.3f} | {h['auc']:.3f} |"
        )
    lines.append(end)
    a, b = text.index(begin), text.index(end) + len(end)
    card.write_text(text[:a] + "\n".join(lines) + text[b:])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
