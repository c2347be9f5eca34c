"""The server's settings (section `deepeval`): one typed dataclass, one parser, one error path.

Settings arrive as JSON from `initializationOptions.settings`, from `workspace/configuration`
and from `workspace/didChangeConfiguration`, with camelCase keys as the extension contributes them.
`parse_settings` never raises: a bad value keeps its default and yields a one-line problem that
the server shows the user with `window/showMessage`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from deepeval_lsp.diagnostics import CheckOptions

FRAMEWORKS = ("auto", "torch", "keras")
MAX_DEBOUNCE_MS = 10_000
MAX_TIMEOUT_MS = 600_000
# Documents above this many bytes (UTF-8) are not checked: the static pass takes seconds per
# megabyte, and a file that size is data or generated code, not a model someone edits.
MAX_DOCUMENT_BYTES = 1_000_000


@dataclass(frozen=True)
class Settings:
    dynamic_checks: bool = True
    debounce_ms: int = 300
    timeout_ms: int = 10_000
    input_shape: tuple[int, ...] | None = None
    framework: str = "auto"
    max_document_bytes: int = MAX_DOCUMENT_BYTES

    def check_options(
        self, *, dynamic: bool | None = None, root: str | None = None
    ) -> CheckOptions:
        """The checker options these settings stand for (`dynamic` overrides the setting)."""
        return CheckOptions(
            dynamic=self.dynamic_checks if dynamic is None else dynamic,
            framework=self.framework,
            input_shape=self.input_shape,
            timeout_ms=self.timeout_ms,
            workspace_root=root,
        )


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {value!r}")


def _int_in(low: int, high: int):
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ValueError(f"expected a whole number, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}, got {value!r}")
        return int(value)

    return parse


def _framework(value: Any) -> str:
    if value not in FRAMEWORKS:
        raise ValueError(f"expected one of {', '.join(FRAMEWORKS)}, got {value!r}")
    return str(value)


def parse_shape(value: Any) -> tuple[int, ...] | None:
    """`[1, 3, 32, 32]`, `"1,3,32,32"`, `"(1, 3, 32, 32)"` or `"1x3x32x32"`; empty means none."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        parts = [p for p in value.strip("()[] ").replace("x", ",").split(",") if p.strip()]
        try:
            dims = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"expected integers like 1,3,32,32, got {value!r}") from None
    elif isinstance(value, list | tuple):
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
            raise ValueError(f"expected a list of integers, got {value!r}")
        dims = tuple(value)
    else:
        raise ValueError(f"expected a shape like [1, 3, 32, 32], got {value!r}")
    if not dims or any(d <= 0 for d in dims):
        raise ValueError(f"dimensions must be positive, got {value!r}")
    return dims


# camelCase key on the wire -> (field name, parser)
_FIELDS = {
    "dynamicChecks": ("dynamic_checks", _bool),
    "debounceMs": ("debounce_ms", _int_in(0, MAX_DEBOUNCE_MS)),
    "timeoutMs": ("timeout_ms", _int_in(100, MAX_TIMEOUT_MS)),
    "inputShape": ("input_shape", parse_shape),
    "framework": ("framework", _framework),
    "maxDocumentBytes": ("max_document_bytes", _int_in(1_000, 64_000_000)),
}
# Settings the extension contributes for itself; the server accepts and ignores them.
_CLIENT_ONLY = {"pythonPath", "trace", "server"}


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from a JSON object (missing keys keep `base`'s values) and the problems found."""
    settings = base or Settings()
    if raw is None:
        return settings, []
    if not isinstance(raw, dict):
        return settings, [f"deepeval settings: expected an object, got {type(raw).__name__}"]
    problems: list[str] = []
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _CLIENT_ONLY:
            continue
        if key not in _FIELDS:
            problems.append(f"deepeval.{key}: unknown setting (ignored)")
            continue
        name, parse = _FIELDS[key]
        if value is None:  # unset in the client: keep the default
            continue
        try:
            changes[name] = parse(value)
        except ValueError as e:
            problems.append(f"deepeval.{key}: {e}; using {getattr(settings, name)!r}")
    return replace(settings, **changes), problems
