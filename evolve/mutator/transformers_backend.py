"""In-process mutator on transformers: batched sampling with a KV cache, peft adapters hot-swapped.

Our own decode loop (not `model.generate`) because the trainer needs the log-probability of each
sampled token under the distribution it was sampled from (temperature, top-k, top-p applied;
greedy: the raw distribution), and finished rows are dropped from the batch and the cache so a
long straggler does not make every other row pay for its steps.  Prompts are left-padded.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import torch

from evolve.mutator.base import Completion, Mutator, MutatorError, Prompt
from evolve.mutator.config import SamplingParams, TransformersConfig
from evolve.mutator.cpu import resolve_dtype_name
from evolve.mutator.models import MODEL_SPECS, is_prepared, model_dir
from evolve.mutations.fences import answer_end, closed_code_blocks
from evolve.mutations.scaffold import AnswerCheck, Scaffold
from evolve.mutator.rows import Row
from trainer.peft_quiet import peft_quiet

log = logging.getLogger("evolve.mutator.transformers")
COMPACT_FRACTION = 0.25  # drop finished rows once this share of the batch is done


def resolve_dtype(name: str) -> torch.dtype:
    return {"bfloat16": torch.bfloat16, "float32": torch.float32}[resolve_dtype_name(name)]


def resolve_model(model: str) -> str:
    """A prepared model name maps to its cache directory; paths and hub ids pass through."""
    if model in MODEL_SPECS:
        if not is_prepared(model):
            raise MutatorError(f"model {model!r} is not prepared: run `evolve model prepare {model}`")
        return str(model_dir(model))
    return model


def sample_next(
    logits: torch.Tensor, params: SamplingParams, gen: torch.Generator,
    temps: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next tokens and their log-probs under the processed distribution (fp32 logits in).
    `temps`: a temperature per row (scaffold retries run hotter); rows at 0 decode greedily."""
    if temps is not None:
        return _sample_rows(logits, params, gen, temps)
    if params.greedy:
        logp = torch.log_softmax(logits, dim=-1)
        tok = logp.argmax(dim=-1)
        return tok, logp.gather(-1, tok[:, None])[:, 0]
    return _processed(logits / params.temperature, params, gen)


def _sample_rows(logits, params, gen, temps):
    greedy = temps == 0
    tok, lp = _processed(logits / torch.where(greedy, 1.0, temps)[:, None], params, gen)
    if bool(greedy.any()):
        raw = torch.log_softmax(logits, dim=-1)
        best = raw.argmax(dim=-1)
        tok = torch.where(greedy, best, tok)
        lp = torch.where(greedy, raw.gather(-1, best[:, None])[:, 0], lp)
    return tok, lp


def _processed(x: torch.Tensor, params: SamplingParams, gen: torch.Generator):
    """Sample from tempered logits `x` after top-k / top-p; log-probs of that distribution."""
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
        self, prompts: list[Prompt], n: int = 1, params: SamplingParams | None = None,
        parents: list[str] | None = None,
    ) -> list[list[Completion]]:
        with self._lock:
            return self._generate(prompts, n, params or SamplingParams(), parents)

    def _generate(self, prompts: list[Prompt], n: int, params: SamplingParams,
                  parents: list[str] | None) -> list[list[Completion]]:
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
            checks = [AnswerCheck(parents[i] if parents else None, params.scaffold)
                      for i, _ in chunk] if params.scaffold is not None else None
            for (i, ids), row in zip(chunk, self._sample([j[1] for j in chunk], params, gen, checks)):
                out[i].append(self._completion(ids, row, params))
        return out

    def _text(self, toks: list[int]) -> str:
        body = toks[:-1] if toks and toks[-1] in self.eos_ids else toks
        return self.tokenizer.decode(body, skip_special_tokens=True)

    def _completion(self, prompt_ids: list[int], row: Row, params: SamplingParams) -> Completion:
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
            temperatures=row.temps if any(t != params.temperature for t in row.temps) else None,
            discarded_tokens=row.discarded,
        )

    def _segment_text(self, row: Row, k: int) -> str:
        """Answer k's code as written, cut just after its closing fence."""
        a, b = row.segments[k]
        text = self._text(row.toks[a:b])
        cut = answer_end(text)
        return text if cut is None else text[:cut]

    def _opening_ids(self, scaffold: Scaffold) -> list[list[int]]:
        return [list(self.tokenizer(o, add_special_tokens=False)["input_ids"]) for o in scaffold.openings]

    @torch.inference_mode()
    def _sample(self, batch: list[list[int]], params: SamplingParams, gen: torch.Generator,
                checks: list[AnswerCheck] | None = None) -> list[Row]:
        """Batched sampling with a KV cache.  With a scaffold, the first opening is prefilled with
        the prompt and later openings are fed one token per step (forced, never re-prefilled);
        an answer discarded as a copy leaves the sequence by masking its cache columns."""
        from transformers import DynamicCache

        sc = params.scaffold
        openings = self._opening_ids(sc) if sc is not None else []
        first = openings[0] if openings else []
        full = [x + first for x in batch]
        B, L = len(full), max(len(x) for x in full)
        retry = sc.retry_temperature if sc is not None else 0.0
        state = [Row.start(first, L - len(first), params.temperature, retry) for _ in batch]
        plen = [len(x) for x in batch]
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
        col = L  # the cache column the next forward writes
        while True:
            self._check_cancel()
            temps = None
            if sc is not None and sc.retry_temperature > 0:
                temps = torch.tensor([state[r].temperature for r in rows.tolist()])
            tok, lp = sample_next(logits, params, gen, temps)
            tl, ll, al = tok.tolist(), lp.tolist(), alive.tolist()
            feed = [self.pad_id] * len(tl)
            for j, r in enumerate(rows.tolist()):
                if not al[j]:
                    continue
                st = state[r]
                if st.forced:  # the harness writes: an opening, or a re-fed token after a rewind
                    feed[j] = st.insert(col)
                    continue
                st.push(tl[j], ll[j], col)
                feed[j] = tl[j]
                if tl[j] in eos:
                    st.finish_as("stop")
                elif sc is not None and self._scaffold_step(st, sc, openings, checks[r] if checks else None):
                    # a copy: its cache columns leave the sequence, the answer is sampled again
                    start_col = st.cols[st.seg - 1]
                    st.rewind(refeed=True)
                    mask[j, start_col:] = 0
                    nxt[j] = plen[r] + len(st.toks)
                    feed[j] = st.insert(col)
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
            col += 1
        return state

    def _scaffold_step(self, st: Row, sc: Scaffold, openings: list[list[int]],
                       check: AnswerCheck | None) -> bool:
        """After a sampled token: close the answer at its fence (or its token cap), then queue
        the next opening or finish the completion.  True when the finished answer is not usable
        (evolve.mutations.scaffold.AnswerCheck) and is to be sampled again (the caller rewinds)."""
        closed = "`" in self.tokenizer.decode(st.toks[-1:]) and \
            answer_end(self._text(st.toks[st.seg:])) is not None
        capped = sc.max_answer_tokens is not None and st.answer_tokens >= sc.max_answer_tokens
        if not (closed or capped):
            return False
        k = len(st.segments) - 1
        if check is not None and not check.accept(k, self._segment_text(st, k)) \
                and st.retries < sc.resample:
            return True
        if k == len(openings) - 1:
            st.finish_as("stop" if closed else "length")
        else:
            st.next_answer(openings[k + 1])
        return False

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
        with peft_quiet():
            if isinstance(self.model, PeftModel):
                self.model.load_adapter(str(path), adapter_name=name, is_trainable=False)
                self.model.set_adapter(name)
                for old in [a for a in self.model.peft_config if a != name]:
                    self.model.delete_adapter(old)
            else:
                self.model = PeftModel.from_pretrained(self.model, str(path), adapter_name=name,
                                                       is_trainable=False)
        self.model.eval()
        self._version = version
        log.info("policy version %d from %s", version, path)

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]


