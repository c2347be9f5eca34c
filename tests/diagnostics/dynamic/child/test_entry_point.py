"""Finding the model a program defines, in the order of DESIGN.md §4, and the arguments it is
built with when the program does not say."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.entry_point import find_model
from deepeval_lsp.diagnostics.dynamic.child.job import run_job
from deepeval_lsp.diagnostics.dynamic.child.plan import make_plan
from deepeval_lsp.diagnostics.dynamic.child.program_slice import slice_program
from deepeval_lsp.diagnostics.dynamic.child.run_state import MODULE_NAME, Run

HEAD = "import torch\nfrom torch import nn\n\n"


def _find(source: str) -> tuple[Any, Run]:
    tree = ast.parse(source)
    run = Run(source, "<m>", source.splitlines(), tree)
    ns: dict[str, Any] = {"__name__": MODULE_NAME}
    exec(compile(source, "<m>", "exec"), ns)
    for value in ns.values():  # classes defined by exec carry the module name of `ns`
        if isinstance(value, type):
            value.__module__ = MODULE_NAME
    return find_model(run, ns, make_plan(tree), slice_program(tree)), run


def test_dl_model_first():
    model, run = _find(HEAD + "def dl_model():\n    return nn.Linear(2, 3)\n\nmodel = nn.ReLU()\n")
    assert type(model).__name__ == "Linear" and run.entry == "dl_model()"


def test_a_module_level_model():
    model, run = _find(HEAD + "net = nn.Sequential(nn.Linear(2, 3))\n")
    assert type(model).__name__ == "Sequential" and run.entry == "net"


def test_the_outermost_class_and_constructor_arguments():
    source = HEAD + "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    model, run = _find(source)
    assert type(model).__name__ == "Net" and run.entry == "Net()"
    source = (
        HEAD + "class Net(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
    )
    model, run = _find(source)
    assert model is None and "needs constructor arguments (n)" in run.notes[0]


def test_a_class_built_with_no_arguments_through_kwargs_is_a_note_not_an_error():
    source = HEAD + (
        "class Layers(nn.Module):\n"
        "    def __init__(self, dim, causal):\n        super().__init__()\n\n\n"
        "class Decoder(Layers):\n"
        "    def __init__(self, **kwargs):\n        super().__init__(causal=True, **kwargs)\n"
    )
    model, run = _find(source)
    assert model is None
    assert "the check called Decoder()" in run.notes[0]
    assert "what **kwargs should carry is unknown" in run.notes[0]
    assert "dim" in run.notes[0]


def test_a_factory_given_nothing_for_the_kwargs_it_passes_on_is_a_note():
    source = HEAD + (
        "class Quantize(nn.Module):\n"
        "    def __init__(self, dim, codebook):\n        super().__init__()\n\n\n"
        "def auto_encoder(dim=32, **vq_kwargs):\n"
        "    return nn.Sequential(nn.Linear(dim, dim), Quantize(dim=dim, **vq_kwargs))\n"
    )
    model, run = _find(source)
    assert model is None
    assert "the check called auto_encoder()" in run.notes[0]
    assert "codebook" in run.notes[0] and "**vq_kwargs" in run.notes[0]


def test_a_factory_whose_modules_are_injected_through_kwargs_is_a_note():
    source = HEAD + (
        "def res_net(include_top=True, weights='imagenet', **kwargs):\n"
        "    backend = kwargs.get('backend')\n"
        "    axis = 3 if backend.image_data_format() == 'channels_last' else 1\n"
        "    return nn.Sequential(nn.BatchNorm2d(axis))\n"
    )
    model, run = _find(source)
    assert model is None
    assert "the check called res_net(weights=None)" in run.notes[0]
    assert "image_data_format" in run.notes[0] and "**kwargs" in run.notes[0]


def test_a_name_never_defined_in_a_variadic_factory_still_raises():
    source = HEAD + "def net(**kwargs):\n    return nn.Sequential(Conv9d(3, 3))\n"
    with pytest.raises(NameError):
        _find(source)


LFQ = HEAD + (
    "class LFQ(nn.Module):\n"
    "    def __init__(self, dim=None, codebook_size=None):\n"
    "        super().__init__()\n"
    "        assert (\n"
    "            dim is not None or codebook_size is not None\n"
    "        ), 'either dim or codebook_size must be specified'\n"
    "        {more}\n"
)


def test_a_class_refusing_its_own_defaults_is_a_note():
    model, run = _find(LFQ.format(more="pass"))
    assert model is None
    assert "the check called LFQ()" in run.notes[0]
    assert "its own check refuses its defaults" in run.notes[0]
    assert "either dim or codebook_size" in run.notes[0]
    source = (
        LFQ.replace("assert (", "if not (")
        .replace("), 'either dim", "):\n            raise ValueError('either dim")
        .replace("specified'", "specified')")
    )
    model, run = _find(source.format(more="pass"))
    assert model is None and "its own check refuses its defaults" in run.notes[0]


def test_a_refusal_raised_deeper_than_the_entry_stays_an_error():
    source = HEAD + (
        "def check_dim(dim):\n    assert dim > 0, 'dim must be positive'\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, dim=0):\n        super().__init__()\n        check_dim(dim)\n"
    )
    with pytest.raises(AssertionError, match="positive"):
        _find(source)
    source = HEAD + (
        "class Net(nn.Module):\n"
        "    def __init__(self, dim=4):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, dim, 3, groups=5)\n"
    )
    with pytest.raises(ValueError, match="groups"):
        _find(source)


def test_a_class_with_no_variadic_arguments_that_fails_still_raises():
    source = HEAD + (
        "class Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        nn.Linear(4)\n"
    )
    with pytest.raises(TypeError, match="missing"):
        _find(source)


def _job(tmp_path, source: str) -> dict[str, Any]:
    path = tmp_path / "prog.py"
    path.write_text(source)
    return run_job({"source": source, "path": str(path)})


GPT = HEAD + (
    "class Block(nn.Module):\n"
    "    def __init__(self, cfg):\n"
    "        super().__init__()\n"
    '        self.ff = nn.Linear(cfg["emb_dim"], cfg["emb_dim"])\n\n'
    "    def forward(self, x):\n        return self.ff(x)\n\n\n"
    "class GPTModel(nn.Module):\n"
    "    def __init__(self, cfg):\n"
    "        super().__init__()\n"
    '        self.emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])\n'
    '        self.blocks = nn.Sequential(*[Block(cfg) for _ in range(cfg["n_layers"])])\n\n'
    "    def forward(self, idx):\n        return self.blocks(self.emb(idx))\n\n\n"
    "def main():\n"
    '    OTHER = {"lr": 0.1}\n'
    '    GPT_CONFIG = {"vocab_size": 50, "emb_dim": 32, "n_layers": 2}\n'
    "    model = GPTModel(GPT_CONFIG)\n\n\n"
    'if __name__ == "__main__":\n    main()\n'
)


def test_the_model_main_builds_is_built_with_mains_config(tmp_path):
    result = _job(tmp_path, GPT)
    assert result["entry"] == "GPTModel(GPT_CONFIG)", result["notes"]
    assert result["errors"] == [] and result["summary"] is not None
    assert any("builds it in main() (line 26)" in n for n in result["notes"])
    assert not any("assumed;" in n for n in result["notes"])


def test_a_config_dict_of_the_file_whose_keys_the_model_reads_is_passed(tmp_path):
    # main() builds it from what the check does not run: the dict literal is looked up
    source = GPT.replace("GPTModel(GPT_CONFIG)", "GPTModel(load_config())")
    result = _job(tmp_path, source)
    assert result["entry"] == "GPTModel(cfg=GPT_CONFIG)", result["notes"]
    assert result["errors"] == [] and result["summary"] is not None
    assert any("built as GPTModel(cfg=GPT_CONFIG): cfg assumed" in n for n in result["notes"])


def test_a_dataclass_config_built_with_its_defaults(tmp_path):
    source = HEAD + (
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\nclass GPTConfig:\n    n_embd: int = 32\n    vocab_size: int = 50\n\n\n"
        "class GPT(nn.Module):\n"
        "    def __init__(self, config):\n"
        "        super().__init__()\n"
        "        self.emb = nn.Embedding(config.vocab_size, config.n_embd)\n\n"
        "    def forward(self, idx):\n        return self.emb(idx)\n"
    )
    result = _job(tmp_path, source)
    assert result["entry"] == "GPT(config=GPTConfig())", result["notes"]
    assert result["summary"] is not None and result["errors"] == []


def test_a_factory_function_is_preferred_over_the_class(tmp_path):
    source = HEAD + (
        "class ResNet(nn.Module):\n"
        "    def __init__(self, layers, num_classes=1000):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(8 * len(layers), num_classes)\n\n"
        "    def forward(self, x):\n        return self.fc(x)\n\n\n"
        "def _resnet(arch, layers, pretrained, **kwargs):\n"
        "    model = ResNet(layers, **kwargs)\n"
        "    if pretrained:\n"
        "        raise RuntimeError('downloads ' + arch)\n"
        "    return model\n\n\n"
        "def resnet18(pretrained=True, **kwargs):\n"
        "    return _resnet('resnet18', [2, 2, 2, 2], pretrained, **kwargs)\n"
    )
    result = _job(tmp_path, source)
    assert result["entry"] == "resnet18(pretrained=False)", result["notes"]
    assert result["errors"] == [] and result["summary"] is not None
    assert not any(n.startswith("built as") for n in result["notes"]), result["notes"]


def test_a_keras_application_function_is_called_without_weights(tmp_path):
    source = (
        "import keras\nfrom keras import layers, models\n\n\n"
        "def TinyNet(include_top=True, weights='imagenet', input_shape=None, classes=1000):\n"
        "    if weights is not None:\n"
        "        raise ValueError('would download ' + weights)\n"
        "    inputs = layers.Input(shape=input_shape or (32, 32, 3))\n"
        "    x = layers.Conv2D(4, 3)(inputs)\n"
        "    x = layers.GlobalAveragePooling2D()(x)\n"
        "    x = layers.Dense(classes)(x)\n"
        "    model = models.Model(inputs, x, name='tiny')\n"
        "    return model\n\n\n"
        "def TinyNet2(include_top=True, weights='imagenet'):\n"
        "    return TinyNet(include_top, weights)\n"
    )
    result = _job(tmp_path, source)
    assert result["entry"] == "TinyNet2(weights=None)", result["notes"]
    assert result["framework"] == "keras" and result["errors"] == []
    assert result["summary"] is not None


def test_a_required_dim_is_assumed_and_the_note_says_so(tmp_path):
    source = HEAD + (
        "class Unet(nn.Module):\n"
        "    def __init__(self, dim, dim_mults=(1, 2)):\n"
        "        super().__init__()\n"
        "        self.proj = nn.Conv2d(3, dim, 3, padding=1)\n\n"
        "    def forward(self, x):\n        return self.proj(x)\n"
    )
    result = _job(tmp_path, source)
    assert result["entry"] == "Unet(dim=64)", result["notes"]
    assert result["summary"] is not None and result["errors"] == []
    assert any("built as Unet(dim=64): dim assumed" in n for n in result["notes"])


def test_the_outer_model_is_built_not_its_blocks(tmp_path):
    source = HEAD + (
        "class LayerNorm(nn.Module):\n"
        "    def __init__(self, emb_dim):\n        super().__init__()\n\n"
        "class Swish(nn.Module):\n    pass\n\n"
        "class MLPBlock(nn.Module):\n"
        "    def __init__(self, dim):\n"
        "        super().__init__()\n        self.norm = LayerNorm(dim)\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, depth, dim):\n"
        "        super().__init__()\n"
        "        self.blocks = nn.ModuleList([MLPBlock(dim) for _ in range(depth)])\n"
    )
    result = _job(tmp_path, source)
    assert result["entry"] == "Net(depth=2, dim=64)", result["notes"]


def test_a_class_with_a_local_base_is_a_model_once_it_ran(tmp_path):
    (tmp_path / "base.py").write_text(
        "from torch import nn\n\n\nclass BaseVAE(nn.Module):\n    pass\n"
    )
    source = (
        "import torch\nfrom torch import nn\nfrom base import BaseVAE\n\n\n"
        "class VanillaVAE(BaseVAE):\n"
        "    def __init__(self, in_channels: int, latent_dim: int, **kwargs):\n"
        "        super().__init__()\n"
        "        self.enc = nn.Conv2d(in_channels, latent_dim, 3)\n"
    )
    result = _job(tmp_path, source)
    assert result["entry"] == "VanillaVAE(in_channels=3, latent_dim=16)", result["notes"]


def test_a_file_run_only_to_learn_whether_its_classes_are_models_gets_a_note(tmp_path):
    source = (
        "import torch\nfrom localbase import BaseVAE\n\n\nclass VanillaVAE(BaseVAE):\n    pass\n"
    )
    result = _job(tmp_path, source)
    assert [e["code"] for e in result["errors"]] == [T.NOT_CHECKABLE]
    assert (
        "whether one is a model is known only once the file runs"
        in (result["errors"][0]["message"])
    )


NET = HEAD + (
    "class Net(nn.Module):\n"
    "    def __init__(self, n_in, n_out):\n        super().__init__()\n"
    "        self.fc = nn.Linear(n_in, n_out)\n\n\n"
)


def test_the_programs_own_call_in_its_main_block_is_the_entry():
    model, run = _find(NET + 'if __name__ == "__main__":\n    net = Net(5, 7)\n')
    assert (model.fc.in_features, model.fc.out_features) == (5, 7)
    assert run.entry == "Net(5, 7)" and run.assumed == []
    assert "the __main__ block (line 11)" in run.notes[0]


def test_the_programs_own_call_in_a_function_reads_its_defaults_and_assignments():
    source = NET + (
        "def train(epochs=3, width=6):\n"
        "    cfg = {'n_in': width, 'n_out': width * 2}\n"
        "    model = Net(**cfg).to('cpu')\n"
        "    for _ in range(epochs):\n        model.train()\n"
    )
    model, run = _find(source)
    assert (model.fc.in_features, model.fc.out_features) == (6, 12)
    assert run.entry == "Net(**cfg)" and "train() (line 12)" in run.notes[0]


def test_a_call_whose_arguments_load_data_is_not_evaluated():
    source = NET + (
        "def load():\n    raise RuntimeError('downloads')\n\n\n"
        "def main():\n    data = open('data.csv')\n    model = Net(data, 2)\n"
    )
    _model, run = _find(source)
    assert run.entry == "Net(n_in=2, n_out=2)" and run.assumed == ["n_in=2", "n_out=2"]
    assert not any("builds it" in n for n in run.notes)


def test_a_failure_with_the_programs_own_values_is_its_error():
    with pytest.raises(TypeError):
        _find(NET + "def main():\n    model = Net(5.5, 2)\n")


def test_a_wrapper_taking_a_model_is_given_the_files_own_model():
    source = HEAD + (
        "class Diffusion(nn.Module):\n"
        "    def __init__(self, model, timesteps=10):\n"
        "        super().__init__()\n        self.model = model\n\n\n"
        "class Unet(nn.Module):\n"
        "    def __init__(self, dim):\n"
        "        super().__init__()\n        self.conv = nn.Conv2d(3, dim, 3)\n"
    )
    model, run = _find(source)
    assert type(model).__name__ == "Diffusion" and model.model.conv.out_channels == 64
    assert run.entry == "Diffusion(model=Unet(dim=64))"
    assert run.assumed == ["model=Unet(dim=64)"]


def test_a_config_dict_computed_from_the_command_line_takes_conventional_values(tmp_path):
    source = GPT.replace(
        '"emb_dim": 32', '"emb_dim": args.emb_dim, "window_stride": args.stride'
    ).replace("GPTModel(GPT_CONFIG)", "GPTModel(load_config())")
    result = _job(tmp_path, source)
    assert result["entry"] == "GPTModel(cfg={**GPT_CONFIG, 'emb_dim': 64, 'window_stride': 1})", (
        result["notes"]
    )
    assert result["errors"] == [] and result["summary"] is not None


def test_when_no_outermost_class_can_be_filled_an_inner_one_is_built():
    source = HEAD + (
        "class Encoder(nn.Module):\n"
        "    def __init__(self, dim):\n        super().__init__()\n"
        "        self.fc = nn.Linear(dim, dim)\n\n\n"
        "class Sam(nn.Module):\n"
        "    def __init__(self, image_encoder: Encoder, prompt_encoder):\n"
        "        super().__init__()\n        self.image_encoder = image_encoder\n"
    )
    model, run = _find(source)
    assert type(model).__name__ == "Encoder" and run.entry == "Encoder(dim=64)"


def test_the_programs_own_call_doing_what_the_sandbox_refuses_is_a_note():
    # what the sandbox raises when the build downloads its weights (a cache folder made)
    refusal = (
        "        from deepeval_lsp.diagnostics.sandbox.audit import SandboxViolation\n"
        "        raise SandboxViolation('os.mkdir', 'create a directory')\n"
    )
    source = NET.replace("        super().__init__()\n", "        super().__init__()\n" + refusal)
    model, run = _find(source + 'if __name__ == "__main__":\n    net = Net(5, 7)\n')
    assert model is None and run.entry is None
    assert "Net(5, 7)" in run.notes[0] and "create a directory" in run.notes[0]
    assert "it is not checked" in run.notes[0]
