"""In-process mutator on transformers: batched sampling with a KV cache, peft adapters hot-swapped.

Our own decode loop (not `model.generate`) because the trainer needs the log-probability of each
sampled token under the distribution it was sampled from (temperature, top-k, top-p applied;
greedy: the raw distribution), and finished rows are dropped from the batch and the cache so a
long straggler does not make every other row pay for its steps.  Prompts are left-padded.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import torch

from evolve.mutator.base import Completion, Mutator, MutatorError, Prompt
from evolve.mutator.config import SamplingParams, TransformersConfig
from evolve.mutator.models import MODEL_SPECS, is_prepared, model_dir
from evolve.mutations.fences import answer_end, closed_code_blocks
from evolve.mutations.scaffold import Scaffold

log = logging.getLogger("evolve.mutator.transformers")
COMPACT_FRACTION = 0.25  # drop finished rows once this share of the batch is done


def cpu_supports_bf16() -> bool:
    """oneDNN's own check (AVX512-BF16 / AMX); /proc/cpuinfo flags as a fallback."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        try:
            flags = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
        return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype(name: str) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if cpu_supports_bf16() else torch.float32
    return {"bfloat16": torch.bfloat16, "float32": torch.float32}[name]


def resolve_model(model: str) -> str:
    """A prepared model name maps to its cache directory; paths and hub ids pass through."""
    if model in MODEL_SPECS:
        if not is_prepared(model):
            raise MutatorError(f"model {model!r} is not prepared: run `evolve model prepare {model}`")
        return str(model_dir(model))
    return model


def sample_next(
    logits: torch.Tensor, params: SamplingParams, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next tokens and their log-probs under the processed distribution (fp32 logits in)."""
    if params.greedy:
        logp = torch.log_softmax(logits, dim=-1)
        tok = logp.argmax(dim=-1)
        return tok, logp.gather(-1, tok[:, None])[:, 0]
    x = logits / params.temperature
    if params.top_k and params.top_k < x.shape[-1]:
        kth = torch.topk(x, params.top_k, dim=-1).values[:, -1:]
        x = x.masked_fill(x < kth, float("-inf"))
    if params.top_p < 1.0:
        sorted_x, idx = torch.sort(x, dim=-1, descending=True)
        probs = torch.softmax(sorted_x, dim=-1)
        drop = (probs.cumsum(-1) - probs) > params.top_p  # the first token is always kept
        x = x.scatter(-1, idx, sorted_x.masked_fill(drop, float("-inf")))
    logp = torch.log_softmax(x, dim=-1)
    tok = torch.multinomial(logp.exp(), 1, generator=gen)[:, 0]
    return tok, logp.gather(-1, tok[:, None])[:, 0]


@dataclass
class _Row:
    """One sequence being generated: its tokens and where it stands in the scaffold."""

    toks: list[int] = field(default_factory=list)
    lps: list[float | None] = field(default_factory=list)
    sampled: list[bool] = field(default_factory=list)
    forced: deque = field(default_factory=deque)  # harness tokens still to feed
    segments: list[tuple[int, int]] = field(default_factory=list)  # answers' sampled spans
    seg: int = 0  # where the current answer's sampled code starts
    n_sampled: int = 0
    finish: str = "length"
    done: bool = False

    @classmethod
    def start(cls, opening: list[int]) -> "_Row":
        """The first opening is prefilled with the prompt: it is already in the sequence."""
        row = cls(toks=list(opening), lps=[None] * len(opening), sampled=[False] * len(opening))
        row.seg = len(opening)
        row.segments.append((row.seg, row.seg))
        return row

    def push(self, tok: int, lp: float) -> None:
        self.toks.append(tok)
        self.lps.append(lp)
        self.sampled.append(True)
        self.n_sampled += 1
        if self.segments:
            self.segments[-1] = (self.seg, len(self.toks))

    def insert(self) -> int:
        tok = self.forced.popleft()
        self.toks.append(tok)
        self.lps.append(None)
        self.sampled.append(False)
        return tok

    def next_answer(self, opening: list[int]) -> None:
        self.forced.extend(opening)
        self.seg = len(self.toks) + len(opening)
        self.segments.append((self.seg, self.seg))

    def finish_as(self, reason: str) -> None:
        self.finish, self.done = reason, True

    def out_of_budget(self) -> None:
        """The token budget is spent: an opening queued but not yet written is dropped."""
        if self.forced:
            self.forced.clear()
            self.segments.pop()
        self.finish_as("length")


class TransformersMutator(Mutator):
    name = "transformers"

    def __init__(self, config: TransformersConfig | None = None) -> None:
        super().__init__()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.config = config or TransformersConfig()
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        path = resolve_model(self.config.model)
        self.dtype = resolve_dtype(self.config.dtype)
        self.tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=self.dtype)
        self.model.eval()
        gen_cfg = getattr(self.model, "generation_config", None)
        eos = getattr(gen_cfg, "eos_token_id", None)
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            eos_ids.add(self.tokenizer.eos_token_id)
        if not eos_ids:
            raise MutatorError(f"{path}: no eos token id in tokenizer or generation config")
        self.eos_ids = sorted(eos_ids)
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.eos_ids[0]
        self._calls = 0
        self._lock = threading.Lock()  # generation and adapter swaps never interleave
        log.info("transformers mutator: %s in %s", path, self.dtype)
        if self.config.adapter:
            self.load_adapter(1, Path(self.config.adapter))

    # ------------------------------------------------------------------ prompts

    def encode(self, prompt: Prompt) -> list[int]:
        if isinstance(prompt, str):
            return list(self.tokenizer(prompt)["input_ids"])
        text = self.tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # ------------------------------------------------------------------ generation

    def generate(
        self, prompts: list[Prompt], n: int = 1, params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        with self._lock:
            return self._generate(prompts, n, params or SamplingParams())

    def _generate(self, prompts: list[Prompt], n: int, params: SamplingParams) -> list[list[Completion]]:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        seed = params.seed if params.seed is not None else self.config.seed + self._calls
        self._calls += 1
        gen = torch.Generator().manual_seed(seed)
        encoded = [self.encode(p) for p in prompts]
        jobs = [(i, encoded[i]) for i in range(len(prompts)) for _ in range(n)]
        out: list[list[Completion]] = [[] for _ in prompts]
        size = self.config.max_batch
        for start in range(0, len(jobs), size):
            chunk = jobs[start : start + size]
            for (i, ids), row in zip(chunk, self._sample([j[1] for j in chunk], params, gen)):
                out[i].append(self._completion(ids, row, params))
        return out

    def _text(self, toks: list[int]) -> str:
        body = toks[:-1] if toks and toks[-1] in self.eos_ids else toks
        return self.tokenizer.decode(body, skip_special_tokens=True)

    def _completion(self, prompt_ids: list[int], row: "_Row", params: SamplingParams) -> Completion:
        finish = row.finish
        if params.scaffold is not None:
            text = "".join(op + self._segment_text(row, k) for k, op in enumerate(params.scaffold.openings[: len(row.segments)]))
        else:
            text = self._text(row.toks)
            for s in params.stop:
                cut = text.find(s)
                if cut >= 0:
                    text, finish = text[:cut], "stop"
            if params.stop_after_blocks and closed_code_blocks(text) >= params.stop_after_blocks:
                finish = "stop"
        return Completion(
            text=text, token_ids=row.toks, logprobs=row.lps, prompt_token_ids=list(prompt_ids),
            finish_reason=finish, policy_version=self._version,
            sampled=row.sampled if params.scaffold is not None else None,
        )

    def _segment_text(self, row: "_Row", k: int) -> str:
        """Answer k's code as written, cut just after its closing fence."""
        a, b = row.segments[k]
        text = self._text(row.toks[a:b])
        cut = answer_end(text)
        return text if cut is None else text[:cut]

    def _opening_ids(self, scaffold: Scaffold) -> list[list[int]]:
        return [list(self.tokenizer(o, add_special_tokens=False)["input_ids"]) for o in scaffold.openings]

    @torch.inference_mode()
    def _sample(self, batch: list[list[int]], params: SamplingParams, gen: torch.Generator) -> list["_Row"]:
        """Batched sampling with a KV cache.  With a scaffold, the first opening is prefilled with
        the prompt and later openings are fed one token per step (forced, never re-prefilled)."""
        from transformers import DynamicCache

        sc = params.scaffold
        openings = self._opening_ids(sc) if sc is not None else []
        state = [_Row.start(openings[0] if openings else []) for _ in batch]
        full = [x + st.toks for x, st in zip(batch, state)]
        B, L = len(full), max(len(x) for x in full)
        ids = torch.full((B, L), self.pad_id, dtype=torch.long)
        mask = torch.zeros((B, L), dtype=torch.long)
        for r, x in enumerate(full):
            ids[r, L - len(x):] = torch.tensor(x, dtype=torch.long)
            mask[r, L - len(x):] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.model.config)
        eos = set(self.eos_ids)
        rows = torch.arange(B)  # original row of each batch position
        alive = torch.ones(B, dtype=torch.bool)  # finished rows idle (pad) until compacted away
        logits = self._forward(ids, mask, pos, cache)
        nxt = pos[:, -1] + 1
        while True:
            tok, lp = sample_next(logits, params, gen)
            tl, ll, al = tok.tolist(), lp.tolist(), alive.tolist()
            feed = [self.pad_id] * len(tl)
            for j, r in enumerate(rows.tolist()):
                if not al[j]:
                    continue
                st = state[r]
                if st.forced:
                    feed[j] = st.insert()
                    continue
                feed[j] = tl[j]
                st.push(tl[j], ll[j])
                if tl[j] in eos:
                    st.finish_as("stop")
                elif sc is not None:
                    self._scaffold_step(st, sc, openings)
                elif (params.stop or params.stop_after_blocks) and self._hit_stop(st.toks, params):
                    st.finish_as("stop")
                if not st.done and st.n_sampled >= params.max_tokens:
                    st.out_of_budget()
            done = torch.tensor([not al[j] or state[r].done for j, r in enumerate(rows.tolist())])
            alive &= ~done
            if not bool(alive.any()):
                break
            tok = torch.tensor(feed, dtype=torch.long).masked_fill(~alive, self.pad_id)
            if (~alive).float().mean() >= COMPACT_FRACTION:
                keep = alive.nonzero()[:, 0]
                cache.batch_select_indices(keep)
                rows, tok, mask, nxt, alive = rows[keep], tok[keep], mask[keep], nxt[keep], alive[keep]
            mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=torch.long)], dim=1)
            logits = self._forward(tok[:, None], mask, nxt[:, None], cache)
            nxt = nxt + 1
        return state

    def _scaffold_step(self, st: "_Row", sc: Scaffold, openings: list[list[int]]) -> None:
        """After a sampled token: close the answer at its fence (or its token cap), then queue
        the next opening or finish the completion."""
        seg = len(st.toks) - st.seg
        closed = any(c in self.tokenizer.decode(st.toks[-1:]) for c in "`") and \
            answer_end(self._text(st.toks[st.seg:])) is not None
        capped = sc.max_answer_tokens is not None and seg >= sc.max_answer_tokens
        if not (closed or capped):
            return
        st.segments[-1] = (st.seg, len(st.toks))
        if len(st.segments) == len(openings):
            st.finish_as("stop" if closed else "length")
            return
        st.next_answer(openings[len(st.segments)])

    def _forward(self, ids, mask, pos, cache) -> torch.Tensor:
        out = self.model(
            input_ids=ids, attention_mask=mask, position_ids=pos, cache=cache,
            use_cache=True, logits_to_keep=1,
        )
        return out.logits[:, -1, :].float()

    def _hit_stop(self, toks: list[int], params: SamplingParams) -> bool:
        if params.stop:
            tail = self.tokenizer.decode(toks[-64:], skip_special_tokens=True)
            if any(s in tail for s in params.stop):
                return True
        # a block can only close on a token holding a backtick or tilde: decode the row only then
        if params.stop_after_blocks and any(c in self.tokenizer.decode(toks[-1:]) for c in "`~"):
            text = self.tokenizer.decode(toks, skip_special_tokens=True)
            return closed_code_blocks(text) >= params.stop_after_blocks
        return False

    # ------------------------------------------------------------------ adapters

    def load_adapter(self, version: int, path: Path) -> None:
        """Attach the peft adapter as `v<version>`, activate it, delete older ones.

        The base weights stay in place: peft injects LoRA layers once and swaps their weights.
        """
        with self._lock:
            self._load_adapter(version, Path(path))

    def _load_adapter(self, version: int, path: Path) -> None:
        self._check_version(version, path)
        from peft import PeftModel

        name = f"v{version}"
        if isinstance(self.model, PeftModel):
            self.model.load_adapter(str(path), adapter_name=name, is_trainable=False)
            self.model.set_adapter(name)
            for old in [a for a in self.model.peft_config if a != name]:
                self.model.delete_adapter(old)
        else:
            self.model = PeftModel.from_pretrained(self.model, str(path), adapter_name=name, is_trainable=False)
        self.model.eval()
        self._version = version
        log.info("policy version %d from %s", version, path)

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]


