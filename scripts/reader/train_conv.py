"""Train the reader's convolutional mark network and add it to app/reader/marks_model.npz.

Run (after train_marks.py, on the same folders; it reuses their inks.npz):
  nice -n 19 .venv/bin/python scripts/reader/train_conv.py var/reader/train var/reader/train4

Training needs torch, which the reader itself does not: ``pip install -e '.[train]'`` (CPU build).
The reader runs the network in numpy (``app.reader.classify.ConvNetwork``); this script checks that
the numpy forward pass gives torch's probabilities before it writes the file. Each epoch sees every
box once, most of them in a fresh augmented copy (turned, scaled, shifted, blurred, darker or
lighter: ``train_marks.augmented``), so the network never sees the same drawing twice.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_marks import augmented, extract, ink_of

from app.reader.classify import CLASSES, CONV, CONVS, MODEL_PATH, VIEWS, conv_from, conv_input
from app.reader.measure import GRID

CHANNELS = (16, 32, 32)  # three 3 × 3 convolutions, each followed by a 2 × 2 max-pool
HIDDEN = 64


def epoch_rows(
    rng: np.random.Generator, data: dict[str, np.ndarray], original_share: float
) -> np.ndarray:
    rows = []
    for shape, numbers in zip(data["shapes"], data["scalars"], strict=True):
        if rng.random() < original_share:
            ink = ink_of(shape, numbers)
        else:
            ink = augmented(rng, shape, numbers)
        rows.append(conv_input(ink))
    return np.stack(rows).astype(np.float32)


def main() -> None:
    import torch
    from torch import nn

    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--base", default=str(MODEL_PATH), help="the model file to add to")
    parser.add_argument("--out", default=str(MODEL_PATH))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default=CONV, choices=CONVS, help="its name in the model file")
    parser.add_argument("--channels", type=int, nargs="+", default=list(CHANNELS))
    # One thread: on the shared 2-core machine (load 8) a step took 0.09 s, with two 0.20 s.
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    parts = [extract(Path(folder)) for folder in args.folders]
    data = {
        key: np.concatenate([part[key] for part in parts])
        for key in ("shapes", "scalars", "labels")
    }
    labels = torch.as_tensor(data["labels"].astype(np.int64))
    cells = GRID * GRID
    first = epoch_rows(rng, data, 1.0)
    mean = first[:, cells:].mean(axis=0)
    scale = first[:, cells:].std(axis=0) + 1e-3
    numbers = first.shape[1] - cells

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            channels = 1
            for out in args.channels:
                layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
                channels = out
            self.convs = nn.Sequential(*layers)
            side = GRID // 2 ** len(args.channels)
            self.hidden = nn.Linear(channels * side * side + numbers, HIDDEN)
            self.drop = nn.Dropout(0.2)
            self.out = nn.Linear(HIDDEN, len(CLASSES))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            image = x[:, :cells].reshape(-1, 1, GRID, GRID)
            found = self.convs(image).flatten(1)
            z = (x[:, cells:] - torch.as_tensor(mean)) / torch.as_tensor(scale)
            hidden = torch.relu(self.hidden(torch.cat([found, z], dim=1)))
            logits: torch.Tensor = self.out(self.drop(hidden))
            return logits

    net = Net()
    counts = np.bincount(data["labels"], minlength=len(CLASSES)).astype(float)
    weights = torch.as_tensor(
        len(labels) / (len(CLASSES) * np.maximum(counts, 1)), dtype=torch.float32
    )
    loss_of = nn.CrossEntropyLoss(weight=weights)
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, args.epochs)
    print(f"{len(labels)} boxes, classes {counts.astype(int).tolist()}", file=sys.stderr)
    for epoch in range(args.epochs):
        x = torch.as_tensor(first if epoch == 0 else epoch_rows(rng, data, 0.25))
        order = torch.randperm(len(labels))
        net.train()
        total = 0.0
        for start in range(0, len(labels), 128):
            part = order[start : start + 128]
            optimiser.zero_grad()
            loss = loss_of(net(x[part]), labels[part])
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(part)
        schedule.step()
        print(f"  epoch {epoch + 1}: loss {total / len(labels):.4f} "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)  # fmt: skip
    net.eval()
    with torch.no_grad():
        plain = torch.as_tensor(first)
        expected = torch.softmax(net(plain), dim=1).numpy()
    accuracy = float((expected.argmax(axis=1) == data["labels"]).mean())
    print(f"training accuracy {accuracy:.4f}", file=sys.stderr)
    model: dict[str, np.ndarray] = {}
    # The other voters already in the file are kept; this network replaces its namesake.
    others = tuple(f"{name}." for name in (*VIEWS, *CONVS) if name != args.name)
    with np.load(args.base) as base:
        model.update({key: value for key, value in base.items() if key.startswith(others)})
    convs = [layer for layer in net.convs if isinstance(layer, nn.Conv2d)]
    for index, layer in enumerate(convs):
        model[f"{args.name}.kernel{index}"] = layer.weight.detach().numpy().astype(np.float32)
        model[f"{args.name}.bias{index}"] = layer.bias.detach().numpy().astype(np.float32)
    model[f"{args.name}.mean"] = mean.astype(np.float32)
    model[f"{args.name}.scale"] = scale.astype(np.float32)
    model[f"{args.name}.w1"] = net.hidden.weight.detach().numpy().T.astype(np.float32)
    model[f"{args.name}.b1"] = net.hidden.bias.detach().numpy().astype(np.float32)
    model[f"{args.name}.w2"] = net.out.weight.detach().numpy().T.astype(np.float32)
    model[f"{args.name}.b2"] = net.out.bias.detach().numpy().astype(np.float32)
    # The reader's numpy forward pass must give what torch gave.
    numpy_net = conv_from(model, args.name)
    sample = slice(0, 512)
    difference = float(np.abs(numpy_net.probabilities(first[sample]) - expected[sample]).max())
    print(f"numpy against torch, largest difference {difference:.2e}", file=sys.stderr)
    if difference > 1e-4:
        raise SystemExit("the numpy forward pass does not match torch's")
    np.savez_compressed(args.out, **model)
    size = Path(args.out).stat().st_size
    print(f"{args.out}: {size / 1e6:.2f} MB in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
