"""PyTorch peer of normnet's optimizers: torch.optim applied to fixed tensors with fixed gradients, written as safetensors.

    torch_optim.py DIR CASES_JSON

CASES_JSON is a list of {"id": ..., "type": "SGD" | "Momentum" | "Nesterov" | "AdaGrad" | "RMSprop" | "Adam",
"options": {normnet's option names}, "steps": n}. Writes DIR/optim.safetensors holding the starting tensors
(init.<k>), the gradient of every step (grad.<step>.<k>, step from 1, the same for every case), and for each
case the parameters and optimizer state after its steps (<id>.param.<k>, <id>.<buffer>.<k>, buffers under
normnet's names: velocity, sum, squareAvg, expAvg, expAvgSq). k indexes the tensors: shapes (3, 4), (5,), (2, 3, 2).

The safetensors format is written by hand, as in torch_peer.py: the package is not in Debian.
"""
import json
import sys

import torch

from torch_peer import save_file  # the same safetensors writer

SHAPES = [(3, 4), (5,), (2, 3, 2)]
MAX_STEPS = 5


def make_optimizer(kind, params, o):
    """torch.optim for normnet's optimizer `kind` and options `o` (normnet's names, defaults as normnet's)."""
    wd = o.get("weightDecay", 0)
    if kind == "SGD":
        return torch.optim.SGD(params, lr=o["lr"], weight_decay=wd), {}
    if kind == "Momentum":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o.get("momentum", 0.9), dampening=o.get("dampening", 0),
                               weight_decay=wd), {"momentum_buffer": "velocity"}
    if kind == "Nesterov":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o.get("momentum", 0.9), nesterov=True,
                               weight_decay=wd), {"momentum_buffer": "velocity"}
    if kind == "AdaGrad":
        return torch.optim.Adagrad(params, lr=o.get("lr", 0.01), lr_decay=o.get("lrDecay", 0), eps=o.get("eps", 1e-10),
                                   initial_accumulator_value=o.get("initialAccumulatorValue", 0),
                                   weight_decay=wd), {"sum": "sum"}
    if kind == "RMSprop":
        return torch.optim.RMSprop(params, lr=o.get("lr", 0.01), alpha=o.get("alpha", 0.99), eps=o.get("eps", 1e-8),
                                   weight_decay=wd), {"square_avg": "squareAvg"}
    if kind == "Adam":
        return torch.optim.Adam(params, lr=o.get("lr", 0.001), betas=(o.get("beta1", 0.9), o.get("beta2", 0.999)),
                                eps=o.get("eps", 1e-8), weight_decay=wd), {"exp_avg": "expAvg", "exp_avg_sq": "expAvgSq"}
    raise ValueError(f"unknown optimizer {kind}")


def main(out, cases):
    torch.manual_seed(2024)
    init = [torch.randn(shape) for shape in SHAPES]
    # Gradients of different scales per step, so the state's history matters.
    grads = [[torch.randn(shape) * (0.5 + step) for shape in SHAPES] for step in range(MAX_STEPS)]
    result = {}
    for k, t in enumerate(init):
        result[f"init.{k}"] = t
    for step, gs in enumerate(grads):
        for k, g in enumerate(gs):
            result[f"grad.{step + 1}.{k}"] = g
    for case in cases:
        params = [t.clone().requires_grad_(True) for t in init]
        optimizer, names = make_optimizer(case["type"], params, case["options"])
        for step in range(case["steps"]):
            for p, g in zip(params, grads[step]):
                p.grad = g.clone()
            optimizer.step()
        for k, p in enumerate(params):
            result[f"{case['id']}.param.{k}"] = p.detach().clone()
            for torch_name, name in names.items():
                result[f"{case['id']}.{name}.{k}"] = optimizer.state[p][torch_name].clone()
    save_file(result, f"{out}/optim.safetensors")


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
