"""PyTorch peer of normnet's tests: the same models in torch, their results written as safetensors files.

    torch_peer.py make DIR {mlp,cnn}    writes DIR/init.safetensors (the initial state dict), DIR/batch.safetensors
                                        (x, labels), DIR/expected.safetensors (eval logits, train loss, gradients
                                        at the first step, and the state dict after two SGD steps)
    torch_peer.py check DIR {mlp,cnn}   loads DIR/normnet.safetensors (normnet's state after the same two steps)
                                        into the torch model and compares it with torch's own; exits 1 on mismatch

The safetensors Python package is not in Debian, so the format (8-byte little-endian header length, JSON
header, raw little-endian data) is written and read here directly: the same bytes safetensors.torch makes.
"""
import json
import struct
import sys

import torch
from torch import nn

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}
LR = 0.1


def save_file(tensors, path):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_file(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        buf = bytearray(raw[8 + n + begin : 8 + n + end])
        out[name] = torch.frombuffer(buf, dtype=TORCH_DTYPES[e["dtype"]]).reshape(e["shape"]).clone()
    return out


def build(kind):
    torch.manual_seed(1234)
    if kind == "mlp":
        model = nn.Sequential(
            nn.Linear(784, 50), nn.BatchNorm1d(50), nn.ReLU(),
            nn.Linear(50, 30), nn.BatchNorm1d(30), nn.ReLU(),
            nn.Linear(30, 10),
        )
        x = torch.rand(32, 784)
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 4, 5), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(6 * 6 * 6, 10),
        )
        x = torch.rand(16, 1, 28, 28)
    # Non-trivial BatchNorm parameters and running statistics, so every term of the formulas shows.
    with torch.no_grad():
        for m in model:
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    labels = torch.randint(0, 10, (x.shape[0],))
    return model, x, labels


def make(out, kind):
    model, x, labels = build(kind)
    save_file(model.state_dict(), f"{out}/init.safetensors")
    save_file({"x": x, "labels": labels}, f"{out}/batch.safetensors")
    expected = {}
    model.eval()
    with torch.no_grad():
        expected["eval_logits"] = model(x)
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    for step in range(2):
        model.zero_grad()
        loss = loss_fn(model(x), labels)
        loss.backward()
        if step == 0:
            expected["train_loss"] = loss.detach().reshape(1).double()
            for name, p in model.named_parameters():
                expected[f"grad.{name}"] = p.grad.clone()  # zero_grad reuses the tensor
        with torch.no_grad():
            for p in model.parameters():
                p -= LR * p.grad
    for name, t in model.state_dict().items():
        expected[f"after.{name}"] = t
    save_file(expected, f"{out}/expected.safetensors")


def check(out, kind):
    ours = load_file(f"{out}/normnet.safetensors")
    expected = {k[len("after."):]: v for k, v in load_file(f"{out}/expected.safetensors").items() if k.startswith("after.")}
    model, _, _ = build(kind)
    model.load_state_dict(ours)  # strict: normnet's keys and shapes are PyTorch's
    worst = 0.0
    for name, t in model.state_dict().items():
        diff = (t.double() - expected[name].double()).abs().max().item()
        scale = expected[name].double().abs().max().item()
        worst = max(worst, diff / max(scale, 1e-6))
    print(json.dumps({"max_relative_difference": worst}))
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]](sys.argv[2], sys.argv[3])
