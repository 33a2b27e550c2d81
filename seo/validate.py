"""Turn pydantic's validation errors into one line naming the file, the line and the key."""

from __future__ import annotations

import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .errors import UserError
from .yamlio import Located

M = TypeVar("M", bound=BaseModel)
_REL_PATH = re.compile(r"^([A-Za-z_]\w*(?:\[\d+\]|\.[A-Za-z_]\w*)*): (.*)$", re.S)


def key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def as_written(loc: tuple[int | str, ...], data: object) -> tuple[int | str, ...]:
    """The key path as the file has it: a list index a validator added (one mapping accepted where
    a list of them is, e.g. `site.publish`) is left out."""
    out: list[int | str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, dict):
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def validate_model(model: type[M], located: Located, prefix: str = "") -> M:
    try:
        return model.model_validate(located.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        loc = as_written(loc, located.data)
        path = key_path(loc)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling)"
        elif "input" in err and err["type"] not in ("model_type", "dict_type"):
            shown = repr(err["input"])
            if len(shown) < 60 and shown not in message:
                message += f" (got {shown})"
        # a model-level error may carry its key path, relative to the model ("hours[1]: ...")
        rel = _REL_PATH.match(message)
        if rel:
            sub, message = rel.group(1), rel.group(2)
            path = f"{path}{sub}" if sub.startswith("[") else f"{path}.{sub}" if path else sub
        full = f"{prefix}{path}" if path else prefix.rstrip(".") or None
        raise UserError(message, file=located.file, key=full,
                        line=located.line_of(path) if path else None) from None
