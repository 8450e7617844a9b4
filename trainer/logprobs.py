"""Log-probs of the completion tokens without the vocabulary-wide fp32 logits tensor.

The plain path computes logits (N, V) for every completion position - for the 0.5B model's
151k-token vocabulary that is 0.6 MB per token in fp32, doubled by the softmax the backward needs
- and it dominates the learner's memory.  `chunked_token_logprobs` takes the last hidden states
(N, H) and the output embedding W (V, H) and goes through the positions `chunk` at a time: each
chunk's logits exist only inside the forward and, recomputed, inside the backward (the gradient
w.r.t. the hidden states is (onehot - softmax) W / T).  W gets no gradient (LoRA never adapts the
output embedding).  Exact up to float summation order (tested against the plain path).
"""

from __future__ import annotations

import torch


class _ChunkedLogprobs(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, weight, targets, temps, chunk):  # noqa: D401 - autograd protocol
        logp = h.new_empty(h.shape[0], dtype=torch.float32)
        ent = h.new_empty(h.shape[0], dtype=torch.float32)
        with torch.no_grad():
            for a in range(0, h.shape[0], chunk):
                x = (h[a:a + chunk] @ weight.T).float() / temps[a:a + chunk, None]
                lse = torch.logsumexp(x, dim=-1)
                logp[a:a + chunk] = x.gather(-1, targets[a:a + chunk, None])[:, 0] - lse
                p = torch.exp(x - lse[:, None])
                ent[a:a + chunk] = lse - (p * x).sum(-1)
        ctx.save_for_backward(h, weight, targets, temps)
        ctx.chunk = chunk
        ctx.mark_non_differentiable(ent)
        return logp, ent

    @staticmethod
    def backward(ctx, grad_logp, _grad_ent):
        h, weight, targets, temps = ctx.saved_tensors
        grad_h = torch.zeros_like(h) if ctx.needs_input_grad[0] else None
        if grad_h is not None:
            for a in range(0, h.shape[0], ctx.chunk):
                t = temps[a:a + ctx.chunk, None]
                x = (h[a:a + ctx.chunk] @ weight.T).float() / t
                g = -torch.softmax(x, dim=-1)
                g.scatter_add_(-1, targets[a:a + ctx.chunk, None], torch.ones_like(g[:, :1]))
                g = g * (grad_logp[a:a + ctx.chunk, None] / t)
                grad_h[a:a + ctx.chunk] = (g.to(weight.dtype) @ weight).to(h.dtype)
        return grad_h, None, None, None, None


def chunked_token_logprobs(h: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                           temps: torch.Tensor, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(log-prob of each target, entropy of each position's tempered distribution), both fp32;
    only the log-probs carry a gradient (to `h`)."""
    return _ChunkedLogprobs.apply(h, weight, targets, temps.float(), chunk)
