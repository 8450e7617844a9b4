"""Tokens/s of the mutator backends against raw `model.generate` (Qwen2.5-Coder-0.5B; --dtype, auto by default).

Greedy decoding over distinct coding prompts, so every contender does the same work and
produces the same tokens; throughput = generated tokens (up to and including EOS) / wall time.
Target: transformers backend >= 0.9x raw generate at every batch size.

    python benchmarks/mutator_throughput.py [--model qwen2.5-coder-0.5b] [--batches 1,8,32]
        [--max-tokens 128] [--repeats 1] [--vllm] [--dtype auto|bfloat16|float32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TASKS = [
    "reverse a string", "check whether a number is prime", "return the n-th Fibonacci number",
    "flatten a nested list", "count vowels in a string", "merge two sorted lists",
    "compute the GCD of two integers", "check whether a string is a palindrome",
    "return the unique elements of a list in order", "transpose a matrix",
    "convert a Roman numeral to an integer", "find the longest common prefix of strings",
    "run-length encode a string", "rotate a list by k positions", "compute a factorial iteratively",
    "find the second largest number in a list", "count words in a sentence",
    "check balanced parentheses", "binary search a sorted list", "compute the median of a list",
    "convert Celsius to Fahrenheit for a list", "remove duplicates from a dict's values",
    "find all anagrams of a word in a list", "sum the digits of an integer",
    "chunk a list into pieces of size n", "compute the dot product of two vectors",
    "capitalize every word of a sentence", "find the mode of a list",
    "check whether two strings are anagrams", "compute the power set of a list",
    "validate an IPv4 address string", "compute prefix sums of a list",
]


def prompts(k: int) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": f"Write a Python function to {t}. Reply with code only."}]
            for t in TASKS[:k]]


def bench_backend(mutator, batch: int, max_tokens: int) -> tuple[list[list[int]], float]:
    from evolve.mutator import SamplingParams

    params = SamplingParams(temperature=0, max_tokens=max_tokens)
    t = time.perf_counter()
    out = mutator.generate(prompts(batch), n=1, params=params)
    dt = time.perf_counter() - t
    return [g[0].token_ids for g in out], dt


def bench_raw(mutator, batch: int, max_tokens: int) -> tuple[list[list[int]], float]:
    """`model.generate` on the same left-padded batch; tokens counted up to the first EOS."""
    import torch

    tok, model = mutator.tokenizer, mutator.model
    texts = [tok.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts(batch)]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    t = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=max_tokens, do_sample=False, pad_token_id=mutator.pad_id)
    dt = time.perf_counter() - t
    seqs = []
    for row in out[:, enc["input_ids"].shape[1]:].tolist():
        cut = next((i + 1 for i, x in enumerate(row) if x in mutator.eos_ids), len(row))
        seqs.append(row[:cut])
    return seqs, dt


def count(seqs: list[list[int]]) -> int:
    return sum(len(s) for s in seqs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--vllm", action="store_true", help="also benchmark the vllm backend (starts a server)")
    ap.add_argument("--dtype", choices=("auto", "bfloat16", "float32"), default="auto",
                    help="both backends' float type (auto: bf16 only where the CPU computes in it)")
    ap.add_argument("--repeats", type=int, default=1, help="interleaved runs; best one counts")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    from evolve.mutator import TransformersConfig, VLLMConfig, build_mutator
    from evolve.mutator.transformers_backend import resolve_model

    results: list[dict] = []
    m = build_mutator(TransformersConfig(model=args.model, dtype=args.dtype))
    bench_backend(m, 1, 8)  # warm-up (allocations, oneDNN kernels)
    for b in batches:
        raw, ours = [], []
        for _ in range(args.repeats):  # interleaved, best of: the machine is shared and noisy
            s_raw, t_raw = bench_raw(m, b, args.max_tokens)
            raw.append(count(s_raw) / t_raw)
            s_ours, t_ours = bench_backend(m, b, args.max_tokens)
            ours.append(count(s_ours) / t_ours)
        same = sum(x == y for x, y in zip(s_raw, s_ours))  # same work, or the comparison is void
        row = {"batch": b, "raw_tok_s": max(raw), "transformers_tok_s": max(ours),
               "tokens": count(s_ours), "raw_tokens": count(s_raw), "identical_rows": same}
        row["ratio"] = row["transformers_tok_s"] / row["raw_tok_s"]
        results.append(row)
        print(f"batch {b:3d}: raw generate {row['raw_tok_s']:7.1f} tok/s | transformers backend "
              f"{row['transformers_tok_s']:7.1f} tok/s | ratio {row['ratio']:.2f} | "
              f"identical rows {same}/{b} ({row['tokens']} vs {row['raw_tokens']} tokens)", flush=True)
    del m

    if args.vllm:
        from evolve.mutator.vllm_server import VLLMServer

        log = Path("/tmp/vpo-vllm-bench.log")
        with VLLMServer(resolve_model(args.model), served_name="base", dtype=args.dtype,
                        max_model_len=2048, log_path=log) as srv:
            v = build_mutator(VLLMConfig(base_url=srv.base_url, model="base", concurrency=max(batches)))
            bench_backend(v, 1, 8)
            for row, b in zip(results, batches):
                seqs, t = bench_backend(v, b, args.max_tokens)
                row["vllm_tok_s"] = count(seqs) / t
                print(f"batch {b:3d}: vllm backend {row['vllm_tok_s']:7.1f} tok/s", flush=True)
            v.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    from evolve.cli.common import sigterm_interrupts

    with sigterm_interrupts():  # a SIGTERM'd benchmark stops its vllm server and sandbox too
        main()
