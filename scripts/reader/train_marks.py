"""Train the reader's mark networks (app/reader/marks_model.npz) on synthetic photos.

Run: nice -n 19 .venv/bin/python scripts/reader/train_marks.py var/reader/train
The folder is made by make_photos.py (train on one seed, measure on another with
scripts/bench/bench_reader.py). Each image goes through the real reader (locate, measure), so the
networks learn from exactly what they will see; the measured boxes are cached in the folder
(inks.npz). Each box is also seen in a few augmented copies (turned, scaled, shifted, blurred).
The stroke-directions-and-skeleton network, one hidden layer, trained with mini-batch Adam (the
convolutional networks are trained by train_conv.py, after this, on the same folders).
"""

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from app.printing import ballot, layout
from app.printing.layout import BALLOTS_DIR, load_layout
from app.reader import locate, measure, read
from app.reader.classify import CLASSES, CONVS, MODEL_PATH, VIEWS, features
from app.reader.locate import PaperNotFound, decode_image
from app.reader.measure import BoxInk, measure_box
from app.reader.read import PaperFor, locate_paper, round_file_reader


def reader_for_case(folder: Path, case: str, cache: dict[str, PaperFor]) -> PaperFor:
    """The paper a synthetic image's case names (layout, round); cached per case."""
    if case not in cache:
        layout_name = case.split("-")[1]
        data = json.loads((folder / "rounds" / f"{case}.json").read_text())
        layout = load_layout(BALLOTS_DIR / f"{layout_name}.json")
        cache[case] = round_file_reader(data, layout=layout)
    return cache[case]


SCALARS = (
    *("inside", "outside", "peak", "trace", "faintest", "fit_score", "outline", "outline_fit"),
    *("line", "clear_trace", "clear_faintest", "line_noise"),
)


def measured_by() -> str:
    """The text of the code that places and measures the boxes: a cache it did not make is stale
    (a changed measurement was once compared on boxes the old code had measured)."""
    digest = hashlib.sha256()
    for module in (locate, measure, read, ballot, layout):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


def extract(folder: Path) -> dict[str, np.ndarray]:
    """What the reader measures in every box of every image in ``folder`` (the ink's shape and
    numbers, not the features: they can change without reading the images again); images already
    read are kept in ``inks.npz`` (a folder still being written can be extracted again), as long
    as the measuring code is the same."""
    cached = folder / "inks.npz"
    version = measured_by()
    done: dict[str, np.ndarray] = {}
    if cached.exists():
        with np.load(cached) as data:
            done = dict(data)
        if str(done.pop("measured_by", "")) != version:
            print(f"{cached}: measured by other code, read again", file=sys.stderr)
            done = {}
    seen = set(done.get("files", np.array([], dtype=str)).tolist())
    cache: dict[str, PaperFor] = {}
    shapes: list[np.ndarray] = []
    scalars: list[list[float]] = []
    labels: list[int] = []
    files: list[str] = []
    missed = 0
    for line in (folder / "labels.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["file"] in seen:
            continue
        paper_for = reader_for_case(folder, record["case"], cache)
        image = decode_image((folder / record["file"]).read_bytes())
        try:
            located, expected = locate_paper(image, paper_for)
        except PaperNotFound:
            missed += 1
            continue
        geometry = located.geometry
        for name, box, fit in zip(
            expected.candidates, geometry.mark_boxes, located.box_fits, strict=True
        ):
            ink = measure_box(image, located.box_homography(fit, box), geometry, box, fit.score)
            shapes.append(ink.shape.astype(np.float16))
            scalars.append([float(getattr(ink, key)) for key in SCALARS])
            labels.append(CLASSES.index(record["truth"][name]))
            files.append(record["file"])
    print(f"{len(labels)} new boxes; {missed} images not located", file=sys.stderr)
    if not labels:
        return done
    result = {
        "shapes": np.stack(shapes),
        "scalars": np.array(scalars, dtype=np.float32),
        "labels": np.array(labels),
        "files": np.array(files),
    }
    if done:
        result = {key: np.concatenate([done[key], result[key]]) for key in result}
    np.savez_compressed(cached, measured_by=np.array(version), **result)
    return result


def ink_of(shape: np.ndarray, numbers: np.ndarray) -> BoxInk:
    values = dict(zip(SCALARS, (float(value) for value in numbers), strict=True))
    return BoxInk(shape=shape.astype(np.float32), **values)


def augmented(rng: np.random.Generator, shape: np.ndarray, numbers: np.ndarray) -> BoxInk:
    """The same mark drawn a little differently: turned, scaled and shifted within its box, more
    or less blurred, its ink darker or lighter (the measured areas follow the scale)."""
    size = shape.shape[0]
    scale = rng.uniform(0.88, 1.12)
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-9, 9), scale)
    matrix[:, 2] += rng.uniform(-1.5, 1.5, 2)
    moved = cv2.warpAffine(shape.astype(np.float32), matrix, (size, size))
    if rng.random() < 0.5:
        moved = cv2.GaussianBlur(moved, (0, 0), rng.uniform(0.3, 0.9))
    moved = np.clip(moved * rng.uniform(0.85, 1.15), 0, 1)
    changed = numbers.copy()
    changed[SCALARS.index("inside")] *= scale**2
    changed[SCALARS.index("trace")] *= scale**2
    return ink_of(moved, changed)


def feature_rows(
    data: dict[str, np.ndarray], copies: int, seed: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every view's features of every box, and of ``copies`` augmented copies of each."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[np.ndarray]] = {view: [] for view in VIEWS}
    labels: list[int] = []
    for shape, numbers, label in zip(data["shapes"], data["scalars"], data["labels"], strict=True):
        inks = [ink_of(shape, numbers)]
        inks += [augmented(rng, shape, numbers) for _ in range(copies)]
        for ink in inks:
            views = features(ink)
            for view in VIEWS:
                rows[view].append(views[view])
            labels.append(int(label))
    return {view: np.stack(rows[view]) for view in VIEWS}, np.array(labels)


def train(
    x: np.ndarray, y: np.ndarray, seed: int, hidden: int = 96, epochs: int = 60, batch: int = 128
) -> dict:
    """One hidden layer, mini-batch Adam, classes weighted to count equally."""
    rng = np.random.default_rng(seed)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    z = ((x - mean) / scale).astype(np.float32)
    classes = len(CLASSES)
    w1 = rng.normal(0, np.sqrt(2 / z.shape[1]), (z.shape[1], hidden)).astype(np.float32)
    b1 = np.zeros(hidden, dtype=np.float32)
    w2 = rng.normal(0, np.sqrt(1 / hidden), (hidden, classes)).astype(np.float32)
    b2 = np.zeros(classes, dtype=np.float32)
    params = [w1, b1, w2, b2]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    onehot = np.eye(classes, dtype=np.float32)[y]
    counts = np.bincount(y, minlength=classes).astype(float)
    weights = (len(y) / (classes * np.maximum(counts, 1)))[y].astype(np.float32)
    decay = 1e-4
    step = 0
    for epoch in range(epochs):
        rate = 0.003 * (0.5 * (1 + np.cos(np.pi * epoch / epochs)))  # cosine to zero
        order = rng.permutation(len(y))
        for first in range(0, len(y), batch):
            part = order[first : first + batch]
            zb = z[part]
            hidden_in = zb @ w1 + b1
            h = np.maximum(hidden_in, 0)
            logits = h @ w2 + b2
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            grad_logits = (p - onehot[part]) * weights[part, None] / len(part)
            grad_h = grad_logits @ w2.T * (hidden_in > 0)
            grads = [
                zb.T @ grad_h + decay * w1,
                grad_h.sum(axis=0),
                h.T @ grad_logits + decay * w2,
                grad_logits.sum(axis=0),
            ]
            step += 1
            for index, (param, grad) in enumerate(zip(params, grads, strict=True)):
                moments[index] = 0.9 * moments[index] + 0.1 * grad
                squares[index] = 0.999 * squares[index] + 0.001 * grad**2
                m_hat = moments[index] / (1 - 0.9**step)
                v_hat = squares[index] / (1 - 0.999**step)
                param -= rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    logits = np.maximum(z @ w1 + b1, 0) @ w2 + b2
    accuracy = float((logits.argmax(axis=1) == y).mean())
    print(f"  training accuracy {accuracy:.4f}", file=sys.stderr)
    return {"mean": mean, "scale": scale, "w1": w1, "b1": b1, "w2": w2, "b2": b2}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--out", default=str(MODEL_PATH))
    parser.add_argument("--copies", type=int, default=3, help="augmented copies of each box")
    # 1: the strokes network's seed when it was the second of three views.
    parser.add_argument("--seed", type=int, default=1, help="the network's starting weights")
    args = parser.parse_args()
    started = time.perf_counter()
    parts = [extract(Path(folder)) for folder in args.folders]
    data = {
        key: np.concatenate([part[key] for part in parts])
        for key in ("shapes", "scalars", "labels")
    }
    counts = np.bincount(data["labels"], minlength=len(CLASSES)).tolist()
    print(f"boxes read in {time.perf_counter() - started:.0f} s; classes", counts, file=sys.stderr)
    rows, labels = feature_rows(data, args.copies, seed=0)
    print(f"{len(labels)} rows in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    # The convolutional networks (train_conv.py) already in the file are kept.
    model = {}
    if Path(args.out).exists():
        with np.load(args.out) as existing:
            model = {
                key: value
                for key, value in existing.items()
                if key.startswith(tuple(f"{name}." for name in CONVS))
            }
    for view in VIEWS:
        print(f"{view}:", file=sys.stderr)
        for name, value in train(rows[view].astype(np.float32), labels, seed=args.seed).items():
            model[f"{view}.{name}"] = value.astype(np.float32)
    np.savez_compressed(args.out, **model)
    size = Path(args.out).stat().st_size
    print(f"{args.out}: {size / 1e6:.2f} MB in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
