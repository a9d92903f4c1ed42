"""Training throughput of our numpy GPT beside PyTorch CPU, on the same model, in the same process.

The model of issue 4: 4 layers, 4 heads, width 128, context 64, batch 32, vocabulary 4,096, AdamW.
PyTorch is optional (``pip install torch`` in a separate environment, e.g. /work/refvenv): when it
cannot be imported, the reference is the figure recorded on the development machine.
Also reported: numpy's and PyTorch's float32 matrix-multiply rate, for context.

Run: ``python -m benchmarks --only training`` (``--quick`` for a smoke run).
"""
from __future__ import annotations

import math
import os
import time

import numpy as np

from runtime.threads import cpu_count
from transformer.config import TransformerConfig
from transformer.train import TrainConfig, train

CFG = TransformerConfig(vocab_size=4096, n_ctx=64, n_embd=128, n_head=4, n_layer=4)
BATCH = 32
RECORDED_TORCH_TOKENS_PER_S = 11_600   # PyTorch 2.13 CPU on the 2-core development machine (issue 4)


def our_tokens_per_s(steps: int, warmup: int, threads: int) -> float:
    """Tokens/s of :func:`transformer.train.train` (AdamW, clipping, schedule), warm-up steps excluded."""
    data = np.random.default_rng(0).integers(0, CFG.vocab_size, 200_000).astype(np.int32)
    times = []

    def tick(progress):
        times.append(time.perf_counter())

    tc = TrainConfig(steps=warmup + steps, batch_size=BATCH, eval_every=0, eval_batches=1, checkpoint_every=0)
    train(CFG, data, data, tc, threads=threads, callback=tick)
    return BATCH * CFG.n_ctx * steps / (times[-1] - times[warmup - 1])


def torch_tokens_per_s(steps: int, warmup: int, threads: int) -> float | None:
    """Tokens/s of the same GPT written with torch.nn and torch.optim.AdamW, or None without torch."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    c, v, t = CFG.n_embd, CFG.vocab_size, CFG.n_ctx

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = torch.nn.LayerNorm(c), torch.nn.LayerNorm(c)
            self.c_attn, self.c_proj = torch.nn.Linear(c, 3 * c), torch.nn.Linear(c, c)
            self.fc, self.proj = torch.nn.Linear(c, 4 * c), torch.nn.Linear(4 * c, c)

        def forward(self, x):
            b = x.shape[0]
            q, k, val = self.c_attn(self.ln_1(x)).split(c, dim=2)
            q, k, val = (z.view(b, t, CFG.n_head, c // CFG.n_head).transpose(1, 2) for z in (q, k, val))
            y = F.scaled_dot_product_attention(q, k, val, is_causal=True).transpose(1, 2).reshape(b, t, c)
            x = x + self.c_proj(y)
            return x + self.proj(F.gelu(self.fc(self.ln_2(x)), approximate="tanh"))

    class GPT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = torch.nn.Embedding(v, c), torch.nn.Embedding(t, c)
            self.blocks = torch.nn.ModuleList(Block() for _ in range(CFG.n_layer))
            self.ln_f = torch.nn.LayerNorm(c)

        def forward(self, idx):
            x = self.wte(idx) + self.wpe(torch.arange(t))
            for block in self.blocks:
                x = block(x)
            return self.ln_f(x) @ self.wte.weight.T           # tied W_U

    model = GPT()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    data = torch.randint(0, v, (200_000,))
    start = None
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        ix = torch.randint(0, len(data) - t - 1, (BATCH,))
        window = torch.stack([data[i: i + t + 1] for i in ix.tolist()])
        loss = F.cross_entropy(model(window[:, :-1]).reshape(-1, v), window[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return BATCH * t * steps / (time.perf_counter() - start)


def gemm_gflops(matmul, a, b, repeats: int = 10) -> float:
    """float32 GFLOP/s of ``matmul(a, b)`` (best of ``repeats``)."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * a.shape[0] * a.shape[1] * b.shape[1] / best / 1e9


def run(quick: bool = False) -> list[dict]:
    steps, warmup = (3, 1) if quick else (15, 3)
    rows = []
    for threads in (1, cpu_count()):
        ours = our_tokens_per_s(steps, warmup, threads)
        theirs = torch_tokens_per_s(steps, warmup, threads)
        measured = theirs is not None
        # the recorded figure is PyTorch at its default threads (every core): no reference for one thread
        reference = theirs if measured else (RECORDED_TORCH_TOKENS_PER_S if threads == cpu_count() else None)
        rows.append({
            "name": f"train GPT 4L/4H/C128/T64/B32/V4096 AdamW, tokens/s, {threads} thread(s)",
            "ours": round(ours), "reference": None if reference is None else round(reference),
            "ratio": None if reference is None else round(ours / reference, 2),
            "goal": ">= 1.0 x PyTorch CPU",
            "reference_is": ("PyTorch measured in this run" if measured else
                             "PyTorch recorded on every core (11.6 k tokens/s)" if reference else
                             "none: PyTorch is not installed, and its recorded figure is for every core"),
            "load_average": round(os.getloadavg()[0], 1)})
        if cpu_count() == 1:
            break
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2048, 128), dtype=np.float32)
    b = rng.standard_normal((128, 4096), dtype=np.float32)
    numpy_rate = gemm_gflops(np.matmul, a, b)
    row = {"name": "float32 GEMM [2048,128]@[128,4096], GFLOP/s", "ours": round(numpy_rate, 1)}
    if measured:
        import torch
        torch_rate = gemm_gflops(torch.matmul, torch.from_numpy(a), torch.from_numpy(b))
        row |= {"reference": round(torch_rate, 1), "ratio": round(numpy_rate / torch_rate, 2),
                "goal": "context (numpy vs torch)"}
    rows.append(row)
    return rows
