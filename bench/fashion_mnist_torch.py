#!/usr/bin/python3
"""The models of examples/fashion_mnist.cpp in PyTorch, trained the same way.

Same data (Debian's dataset-fashion-mnist), same batch order (no shuffle),
same preprocessing (bytes / 255 as f32), same layers, loss and optimizer, and,
with --init, the same initial weights: a safetensors file written by
`fashion_mnist --save-init`. Prints `train time: X s` (the training epochs
only) and, last, `test accuracy: NN.NN%`, as the example does.

  fashion_mnist_torch.py --model lenet --batch 64 --threads 1 --init init.safetensors
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

DATA = "/usr/share/datasets/fashion-mnist"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="adam")
    p.add_argument("--threads", type=int, default=0, help="0: every core")
    p.add_argument("--limit", type=int, default=-1, help="first N training images")
    p.add_argument("--init", help="initial parameters (safetensors), by the example's names")
    p.add_argument("--data", default=DATA)
    a = p.parse_args()
    if a.epochs < 1 or a.batch < 1 or not a.lr > 0 or a.threads < 0:
        p.error("values must be positive")
    return a


ARGS = parse_args()
# The BLAS and OpenMP pools size themselves when torch loads them: bound them
# before the import, and torch's own intra-op pool after it.
if ARGS.threads > 0:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


def read_idx(path):
    """An IDX file (gzip) as a uint8 tensor of its shape: big-endian dims."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack_from(">HBB", data, 0)
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack_from(">" + "I" * ndim, data, 4)
    body = bytearray(data[4 + 4 * ndim:])
    return torch.frombuffer(body, dtype=torch.uint8).reshape(dims)


def read_mnist_family(directory, train, limit=-1):
    """Images u8 [N, 1, 28, 28] and labels i64 [N], as fusejit::data's."""
    prefix = os.path.join(directory, "train" if train else "t10k")
    images = read_idx(prefix + "-images-idx3-ubyte.gz")
    labels = read_idx(prefix + "-labels-idx1-ubyte.gz").to(torch.int64)
    if limit >= 0:
        images, labels = images[:limit], labels[:limit]
    return images.unsqueeze(1), labels


def load_safetensors(path):
    """{name: tensor}: an 8-byte little-endian header length, a JSON header
    of dtype, shape and data_offsets (relative to the data), then the data."""
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64,
              "I32": torch.int32, "U8": torch.uint8}
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        body = bytearray(raw[base + begin:base + end])
        t = torch.frombuffer(body, dtype=dtypes[entry["dtype"]]) if body else \
            torch.empty(0, dtype=dtypes[entry["dtype"]])
        out[name] = t.reshape(entry["shape"])
    return out


def make_model(name):
    # The example's Sequential, child for child, so that the state_dict's
    # keys ("1.weight", ...) are the example's named_parameters().
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def pixels(images):
    return images.to(torch.float32) / 255.0


def test_accuracy(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for at in range(0, len(labels), 1000):
            predicted = model(pixels(images[at:at + 1000])).argmax(1)
            correct += int((predicted == labels[at:at + 1000]).sum())
    model.train()
    return 100.0 * correct / len(labels)


def main():
    a = ARGS
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    train_x, train_y = read_mnist_family(a.data, True, a.limit)
    test_x, test_y = read_mnist_family(a.data, False)
    model = make_model(a.model)
    if a.init:
        # strict: every key on both sides; shapes must agree.
        model.load_state_dict(load_safetensors(a.init), strict=True)
    if a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=a.lr)
    print(f"{a.model} on {len(train_y)} training images, {len(test_y)} test images; "
          f"batch {a.batch}, {a.optimizer} lr {a.lr:g}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s)")
    start = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        loss_sum, steps = 0.0, 0
        for at in range(0, len(train_y), a.batch):
            loss = F.cross_entropy(model(pixels(train_x[at:at + a.batch])),
                                   train_y[at:at + a.batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            steps += 1
        print(f"epoch {epoch}/{a.epochs} loss {loss_sum / steps:.4f}")
    seconds = time.perf_counter() - start
    print(f"train time: {seconds:.3f} s")
    print(f"test accuracy: {test_accuracy(model, test_x, test_y):.2f}%")


if __name__ == "__main__":
    main()
