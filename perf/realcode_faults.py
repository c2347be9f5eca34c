"""Inject realistic shape faults into the real-code corpus's models, and see whether `check`
finds each at its line and whether `check --fix` repairs it.

    python perf/realcode_faults.py [--corpus ../shared/realcode] [--only SUBSTRING] [--keep]

Each fault of FAULTS changes one expression of one corpus file (a Linear's in_features, a conv's
in_channels, a ConvTranspose's channels, a LayerNorm's size, a view/reshape, an embedding
dimension, a head count). The repository is copied to a temporary folder (the corpus is never
written), the fault is applied there, and `deepeval-lsp check --format json` runs from the copy's
root as a user would. A fault is found when an error-severity finding starts on the fault's line,
or names it as a related location (the constructor of the layer to change), or does either for
one of the fault's `also` lines. Then `check --fix` runs on the copy; the fix is good when
the file is clean afterwards, and it restores the user's expression when the file is then equal to
the original (a fix that writes a literal where the code had `int(512 * alpha)` is clean but does
not). Printed: one line per fault, then found / fixed-clean / restored counts and ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "realcode"


@dataclass(frozen=True)
class Fault:
    repo: str
    path: str  # relative to the repository's root
    old: str  # the exact text replaced (its first occurrence after `after`)
    new: str
    kind: str
    after: str = ""  # an anchor: the replacement is searched for after its first occurrence
    also: tuple[str, ...] = ()  # other lines (their text) where the finding may be reported
    # appended to the file with the fault, when the file builds nothing with its own values (a
    # module-level instance); the kind then says "+ instance"
    instance: str = ""


UNET = ("jvanvugt+pytorch-unet", "unet.py")
SR = ("sgrvinod+a-PyTorch-Tutorial-to-Super-Resolution", "models.py")
GAN = ("LynnHo+DCGAN-LSGAN-WGAN-GP-DRAGAN-Pytorch", "module.py")
GPT = ("rasbt+LLMs-from-scratch", "ch04/01_main-chapter-code/gpt.py")
CNX = ("facebookresearch+ConvNeXt", "models/convnext.py")
KUNET = ("divamgupta+image-segmentation-keras", "keras_segmentation/models/unet.py")
KUNET_MODEL = "\nmodel = unet_mini(2, input_height=96, input_width=96)\n"
VQAE = ("lucidrains+vector-quantize-pytorch", "examples/autoencoder.py")
# main() builds GPTModel(GPT_CONFIG_124M) from a local dict, which the check treats as an
# assumed argument: the faults go through a module-level instance of a small configuration
GPT_MODEL = (
    '\nmodel = GPTModel({"vocab_size": 1000, "context_length": 64, "emb_dim": 96, "n_heads": 4, '
    '"n_layers": 2, "drop_rate": 0.1, "qkv_bias": False})\n'
)
SR_DISC = "\nmodel = Discriminator()\n"
GAN_DISC = "\nmodel = ConvDiscriminator()\n"
CNX_MODEL = "\nmodel = ConvNeXt()\n"

FAULTS: list[Fault] = [
    # U-Net (UNet() with its defaults)
    Fault(
        *UNET,
        "nn.Conv2d(prev_channels, n_classes",
        "nn.Conv2d(prev_channels * 2, n_classes",
        "conv in_channels",
    ),
    Fault(
        *UNET,
        "nn.Conv2d(out_size, out_size, kernel_size=3",
        "nn.Conv2d(in_size, out_size, kernel_size=3",
        "conv in_channels (name)",
    ),
    Fault(
        *UNET,
        "nn.ConvTranspose2d(in_size, out_size",
        "nn.ConvTranspose2d(in_size // 2, out_size",
        "ConvTranspose in_channels",
    ),
    Fault(
        *UNET,
        "UNetConvBlock(prev_channels, 2 ** (wf + i)",
        "UNetConvBlock(prev_channels * 2, 2 ** (wf + i)",
        "conv in_channels (caller)",
        also=("block.append(nn.Conv2d(in_size, out_size",),
    ),
    # SRResNet (Generator() with its defaults)
    Fault(
        *SR,
        "ConvolutionalBlock(in_channels=n_channels, out_channels=3",
        "ConvolutionalBlock(in_channels=n_channels * 2, out_channels=3",
        "conv in_channels (caller)",
        also=("nn.Conv2d(in_channels=in_channels, out_channels=out_channels",),
    ),
    Fault(
        *SR,
        "in_channels=n_channels",
        "in_channels=2 * n_channels",
        "conv in_channels (caller)",
        after="# The second convolutional block",
        also=("nn.Conv2d(in_channels=in_channels, out_channels=out_channels",),
    ),
    Fault(
        *SR,
        "out_channels=n_channels * (scaling_factor ** 2)",
        "out_channels=n_channels * scaling_factor",
        "conv out_channels (sub-pixel)",
        also=("self.conv = nn.Conv2d(in_channels=n_channels",),
    ),
    Fault(
        *SR,
        "nn.Linear(out_channels * 6 * 6, fc_size)",
        "nn.Linear(out_channels * 4 * 4, fc_size)",
        "Linear in_features (+ instance)",
        instance=SR_DISC,
    ),
    Fault(
        *SR,
        "nn.Linear(out_channels * 6 * 6, fc_size)",
        "nn.Linear(out_channels * 6, fc_size)",
        "Linear in_features (+ instance)",
        instance=SR_DISC,
    ),
    Fault(
        *SR,
        "nn.Linear(1024, 1)",
        "nn.Linear(512, 1)",
        "Linear in_features (+ instance)",
        instance=SR_DISC,
    ),
    Fault(
        *SR,
        "output.view(batch_size, -1)",
        "output.view(batch_size, 512)",
        "wrong view (+ instance)",
        instance=SR_DISC,
    ),
    # DCGAN (ConvGenerator() with its defaults; the discriminator through an instance)
    Fault(
        *GAN,
        "nn.ConvTranspose2d(d, output_channels",
        "nn.ConvTranspose2d(d * 2, output_channels",
        "ConvTranspose in_channels",
    ),
    Fault(
        *GAN,
        "nn.ConvTranspose2d(d, output_channels",
        # (not `dim`: with the defaults, the last d equals dim, and the file runs)
        "nn.ConvTranspose2d(d_last, output_channels",
        "ConvTranspose in_channels (name)",
    ),
    Fault(
        *GAN,
        "dconv_norm_relu(d_last, d, kernel_size=4, stride=2",
        "dconv_norm_relu(d, d, kernel_size=4, stride=2",
        "ConvTranspose channels (caller)",
        also=("nn.ConvTranspose2d(in_dim, out_dim, kernel_size",),
    ),
    Fault(
        *GAN,
        "nn.Conv2d(d, 1, kernel_size=4",
        "nn.Conv2d(d // 2, 1, kernel_size=4",
        "conv in_channels (+ instance)",
        instance=GAN_DISC,
    ),
    Fault(
        *GAN,
        "nn.Conv2d(d, 1, kernel_size=4",
        "nn.Conv2d(dim * 4, 1, kernel_size=4",
        "conv in_channels (+ instance)",
        instance=GAN_DISC,
    ),
    # GPT (GPTModel(GPT_CONFIG_124M) of main())
    Fault(
        *GPT,
        'nn.Linear(4 * cfg["emb_dim"], cfg["emb_dim"])',
        'nn.Linear(2 * cfg["emb_dim"], cfg["emb_dim"])',
        "Linear in_features (+ instance)",
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        'nn.Linear(cfg["emb_dim"], 4 * cfg["emb_dim"])',
        'nn.Linear(cfg["emb_dim"], 2 * cfg["emb_dim"])',
        "Linear out_features (+ instance)",
        also=('nn.Linear(4 * cfg["emb_dim"], cfg["emb_dim"])',),
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        'nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)',
        'nn.Linear(cfg["context_length"], cfg["vocab_size"], bias=False)',
        "Linear in_features (name) (+ instance)",
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        "self.out_proj = nn.Linear(d_out, d_out)",
        "self.out_proj = nn.Linear(d_out // 2, d_out)",
        "Linear in_features (attention) (+ instance)",
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        "values.view(b, num_tokens, self.num_heads, self.head_dim)",
        "values.view(b, num_tokens, self.num_heads, self.d_out)",
        "wrong view (head dim) (+ instance)",
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        "context_vec.contiguous().view(b, num_tokens, self.d_out)",
        "context_vec.contiguous().view(b, num_tokens, self.head_dim)",
        "wrong view (merge heads) (+ instance)",
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        "self.head_dim = d_out // num_heads",
        "self.head_dim = d_out // (2 * num_heads)",
        "attention head dim (+ instance)",
        also=("keys = keys.view(b, num_tokens",),
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        'nn.Embedding(cfg["context_length"], cfg["emb_dim"])',
        'nn.Embedding(cfg["context_length"], cfg["emb_dim"] // 2)',
        "embedding dim (+ instance)",
        also=("x = tok_embeds + pos_embeds",),
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        'nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])',
        'nn.Embedding(cfg["vocab_size"], cfg["context_length"])',
        "embedding dim (name) (+ instance)",
        also=("x = tok_embeds + pos_embeds",),
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        "self.scale = nn.Parameter(torch.ones(emb_dim))",
        "self.scale = nn.Parameter(torch.ones(emb_dim * 2))",
        "LayerNorm size (+ instance)",
        also=("return self.scale * norm_x + self.shift",),
        instance=GPT_MODEL,
    ),
    Fault(
        *GPT,
        "self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)",
        "self.W_query = nn.Linear(d_in, d_out // 2, bias=qkv_bias)",
        "attention projection (view) (+ instance)",
        also=("queries = queries.view(b, num_tokens",),
        instance=GPT_MODEL,
    ),
    # ConvNeXt (the class with its defaults, through an instance: convnext_tiny() is registered
    # with timm, which is not installed)
    Fault(
        *CNX,
        "self.pwconv2 = nn.Linear(4 * dim, dim)",
        "self.pwconv2 = nn.Linear(2 * dim, dim)",
        "Linear in_features (+ instance)",
        instance=CNX_MODEL,
    ),
    Fault(
        *CNX,
        "self.head = nn.Linear(dims[-1], num_classes)",
        "self.head = nn.Linear(dims[-2], num_classes)",
        "Linear in_features (+ instance)",
        instance=CNX_MODEL,
    ),
    Fault(
        *CNX,
        "self.norm = nn.LayerNorm(dims[-1], eps=1e-6)",
        "self.norm = nn.LayerNorm(dims[0], eps=1e-6)",
        "LayerNorm size (+ instance)",
        instance=CNX_MODEL,
    ),
    Fault(
        *CNX,
        "nn.Conv2d(dims[i], dims[i+1], kernel_size=2, stride=2)",
        "nn.Conv2d(dims[i+1], dims[i+1], kernel_size=2, stride=2)",
        "conv in_channels (+ instance)",
        instance=CNX_MODEL,
    ),
    Fault(
        *CNX,
        "self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)",
        "self.dwconv = nn.Conv2d(dim * 2, dim, kernel_size=7, padding=3, groups=dim)",
        "conv in_channels (+ instance)",
        instance=CNX_MODEL,
    ),
    # The VQ autoencoder example (as train() builds it): its VectorQuantize reshapes with einops
    Fault(
        *VQAE,
        "nn.Conv2d(16, 32, kernel_size = 3",
        "nn.Conv2d(16, 64, kernel_size = 3",
        "conv out_channels into VectorQuantize",
        also=("VectorQuantize(dim = dim",),
    ),
    # Keras U-Net (unet_mini through an instance: the file's models are functions of the
    # number of classes)
    Fault(
        *KUNET,
        "padding='same'",
        "padding='valid'",
        "Keras conv padding (+ instance)",
        after="conv2 = Dropout(0.2)(conv2)",
        also=("up1 = concatenate(",),
        instance=KUNET_MODEL,
    ),
    Fault(
        *KUNET,
        "padding='same'",
        "padding='valid'",
        "Keras conv padding (+ instance)",
        after="conv1 = Dropout(0.2)(conv1)",
        also=("up2 = concatenate(",),
        instance=KUNET_MODEL,
    ),
]


def apply(fault: Fault, text: str) -> tuple[str, int]:
    """The faulty text and the 0-based line of the change."""
    start = text.index(fault.after) if fault.after else 0
    at = text.index(fault.old, start)
    return text[:at] + fault.new + text[at + len(fault.old) :], text.count("\n", 0, at)


def _check(root: Path, rel: str, *extra: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "check", "--format", "json", *extra, rel],
        cwd=root,
        capture_output=True,
        text=True,
    )
    try:
        return json.loads(proc.stdout)[0]["diagnostics"]
    except (json.JSONDecodeError, IndexError, KeyError):
        raise RuntimeError(f"check failed on {rel}: {proc.stderr[-1500:]}") from None


def _lines_named(d: dict[str, Any]) -> set[int]:
    """The lines a finding names: its own and those of its related locations (the constructor
    of the layer to change)."""
    return {d["range"]["start"]["line"]} | {
        r["range"]["start"]["line"] for r in d.get("related", [])
    }


def run_fault(corpus: Path, fault: Fault, keep: bool) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="faults-"))
    try:
        root = tmp / fault.repo
        shutil.copytree(corpus / fault.repo, root)
        target = root / fault.path
        original = target.read_text(encoding="utf-8")
        faulty, line = apply(fault, original)
        faulty += fault.instance
        target.write_text(faulty, encoding="utf-8")
        lines = faulty.splitlines()
        wanted = {line} | {i for i, t in enumerate(lines) for a in fault.also if a in t}
        try:
            errors = [d for d in _check(root, fault.path) if d["severity"] == "error"]
        except RuntimeError as e:  # the check itself failed: a miss, said as such
            print(f"  {fault.kind}: {e}", file=sys.stderr)
            errors = []
        hit = [d for d in errors if wanted & _lines_named(d)]
        out: dict[str, Any] = {
            "fault": fault,
            "line": line + 1,
            "found": bool(hit),
            "errors": errors,
            "fixed_clean": False,
            "restored": False,
        }
        if hit:
            subprocess.run(
                [sys.executable, "-m", "deepeval_lsp", "check", "--fix", fault.path],
                cwd=root,
                capture_output=True,
                text=True,
            )
            after = target.read_text(encoding="utf-8")
            out["fixed"] = after != faulty
            if out["fixed"]:
                left = [d for d in _check(root, fault.path) if d["severity"] == "error"]
                out["fixed_clean"] = not left
                out["restored"] = after == original + fault.instance
        return out
    finally:
        if keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def line_of(fault: Fault, r: dict[str, Any]) -> str:
    """One fault's verdict: found or missed, what --fix did, where, and the first error."""
    first = r["errors"][0] if r["errors"] else None
    said = f"{first['code']} line {first['range']['start']['line'] + 1}" if first else "-"
    verdict = "FOUND" if r["found"] else "missed"
    fix = "restored" if r["restored"] else "clean" if r["fixed_clean"] else "no fix"
    return (
        f"{verdict:6} {fix:8} {fault.kind:32} {fault.repo}/{fault.path}:{r['line']} "
        f"(first error: {said})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--only", help="only faults whose repo/path contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copies")
    ap.add_argument("--jobs", type=int, default=2, help="faults checked at once")
    args = ap.parse_args(argv)
    if not (args.corpus / "files.txt").is_file():
        print(f"no corpus at {args.corpus} (files.txt missing)", file=sys.stderr)
        return 2
    faults = [f for f in FAULTS if not args.only or args.only in f"{f.repo}/{f.path}"]
    results = []
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        # printed as they finish, in the list's order
        done = pool.map(lambda f: run_fault(args.corpus, f, args.keep), faults)
        for fault, r in zip(faults, done, strict=True):
            results.append(r)
            print(line_of(fault, r), flush=True)
    n = len(results)
    found = sum(r["found"] for r in results)
    clean = sum(r["fixed_clean"] for r in results)
    restored = sum(r["restored"] for r in results)
    if n:
        print(f"\n{n} faults: found at their line {found} ({100 * found / n:.0f} %)")
        if found:
            print(f"  found and left clean by --fix: {clean} ({100 * clean / found:.0f} %)")
            print(
                f"  fixed to the user's own expression: {restored} ({100 * restored / found:.0f} %)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
