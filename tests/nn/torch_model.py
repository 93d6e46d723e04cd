#!/usr/bin/env python3
"""Writes a small PyTorch model and one batch through it as safetensors files
for nn_test's LoadsAModelWrittenByTorch: DIR/model.safetensors (the
state_dict: 0.weight, 0.bias, 2.weight, 2.bias; the first layer in f16 and
bf16 too would lose bits, so f32) and DIR/io.safetensors (input, output).
Debian has no safetensors package for Python, so the format is written here.
Exits 77 (skip) where torch is not installed."""
import json
import struct
import sys

try:
    import torch
except ImportError:
    print("torch_model.py: python3-torch is not installed; skipping", file=sys.stderr)
    sys.exit(77)


def write(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(17, 9), torch.nn.ReLU(), torch.nn.Linear(9, 3))
    x = torch.randn(5, 17)
    with torch.no_grad():
        y = model(x)
    write(out + "/model.safetensors", model.state_dict())
    write(out + "/io.safetensors", {"input": x, "output": y})


if __name__ == "__main__":
    main()
