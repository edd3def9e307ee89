"""The convolutional mark network's numpy forward pass (the reader runs it without torch), loaded as
a model file stores it, against a plain per-pixel one written out here."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from app.reader.classify import (
    CLASSES,
    MODEL_PATH,
    conv_from,
    load_networks,
    network_probabilities,
)
from app.reader.measure import GRID, BoxInk


def _reference(stored: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Each output pixel summed over its 3 × 3 neighbours and input channels, one by one; the
    parts as a model file stores them."""
    layers = sum(1 for key in stored if key.startswith("conv.kernel"))
    kernels = [stored[f"conv.kernel{index}"] for index in range(layers)]
    biases = [stored[f"conv.bias{index}"] for index in range(layers)]
    rows = []
    for sample in x:
        maps = sample[: GRID * GRID].reshape(1, GRID, GRID).astype(np.float64)
        for kernel, bias in zip(kernels, biases, strict=True):
            _, height, width = maps.shape
            padded = np.pad(maps, ((0, 0), (1, 1), (1, 1)))
            out = np.zeros((kernel.shape[0], height, width))
            for o in range(kernel.shape[0]):
                for y in range(height):
                    for x_ in range(width):
                        patch = padded[:, y : y + 3, x_ : x_ + 3]
                        out[o, y, x_] = float((patch * kernel[o]).sum()) + float(bias[o])
            out = np.maximum(out, 0)
            maps = out.reshape(kernel.shape[0], height // 2, 2, width // 2, 2).max(axis=(2, 4))
        numbers = (sample[GRID * GRID :] - stored["conv.mean"]) / stored["conv.scale"]
        hidden = np.maximum(
            np.concatenate([maps.ravel(), numbers]) @ stored["conv.w1"] + stored["conv.b1"], 0
        )
        logits = hidden @ stored["conv.w2"] + stored["conv.b2"]
        exp = np.exp(logits - logits.max())
        rows.append(exp / exp.sum())
    return np.array(rows)


def test_the_numpy_convolutions_match_a_plain_per_pixel_forward_pass() -> None:
    rng = np.random.default_rng(7)
    channels = (1, 3, 4)
    kernels = tuple(
        rng.normal(0, 0.5, (out, into, 3, 3)).astype(np.float32)
        for into, out in itertools.pairwise(channels)
    )
    biases = tuple(rng.normal(0, 0.1, out).astype(np.float32) for out in channels[1:])
    numbers = 5
    found = channels[-1] * (GRID // 4) ** 2
    stored = {
        **{f"conv.kernel{index}": kernel for index, kernel in enumerate(kernels)},
        **{f"conv.bias{index}": bias for index, bias in enumerate(biases)},
        "conv.mean": rng.normal(0, 1, numbers).astype(np.float32),
        "conv.scale": rng.uniform(0.5, 2, numbers).astype(np.float32),
        "conv.w1": rng.normal(0, 0.1, (found + numbers, 8)).astype(np.float32),
        "conv.b1": rng.normal(0, 0.1, 8).astype(np.float32),
        "conv.w2": rng.normal(0, 0.5, (8, len(CLASSES))).astype(np.float32),
        "conv.b2": rng.normal(0, 0.1, len(CLASSES)).astype(np.float32),
    }
    net = conv_from(stored)
    # An asymmetric shape: a transposed or flipped kernel, or a channel-last flattening where the
    # weights expect channel-first, gives other probabilities.
    x = rng.uniform(0, 1, (3, GRID * GRID + numbers)).astype(np.float32)
    x[:, : GRID * GRID] *= np.linspace(0, 1, GRID * GRID, dtype=np.float32)
    got = net.probabilities(x)
    assert got.shape == (3, len(CLASSES))
    np.testing.assert_allclose(got, _reference(stored, x), atol=1e-5)


def test_the_shipped_model_has_three_voters_each_giving_probabilities() -> None:
    networks = load_networks()
    assert list(networks) == ["strokes", "conv", "conv2"]
    ink = BoxInk(
        inside=0.0,
        outside=0.0,
        peak=0.0,
        trace=0.0,
        faintest=0.0,
        shape=np.zeros((GRID, GRID), dtype=np.float32),
        fit_score=1.0,
    )
    probabilities = network_probabilities(ink, networks)
    assert probabilities.shape == (3, len(CLASSES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    # An empty box: every voter says blank.
    assert (probabilities.argmax(axis=1) == CLASSES.index("blank")).all()


def test_a_model_file_without_one_of_the_voters_is_refused(tmp_path: Path) -> None:
    with np.load(MODEL_PATH) as data:
        stored = {key: value for key, value in data.items() if not key.startswith("conv2.")}
    short = tmp_path / "short.npz"
    np.savez(short, **stored)
    with pytest.raises(KeyError):
        load_networks(short)
