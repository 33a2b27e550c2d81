"""Turn pydantic's validation errors into one line naming the file, the line and the key."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .errors import UserError
from .yamlio import Located

M = TypeVar("M", bound=BaseModel)


def key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def validate_model(model: type[M], located: Located, prefix: str = "") -> M:
    try:
        return model.model_validate(located.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
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
        # a model-level error may carry its own key path ("locations[1].id: ..."), relative to the
        # model that raised it
        if ": " in message and message.split(": ", 1)[0].replace("[", ".").replace(
                "]", "").replace(".", "").replace("_", "").isalnum():
            own, message = message.split(": ", 1)
            path = f"{path}.{own}" if path else own
        full = f"{prefix}{path}" if path else prefix.rstrip(".") or None
        raise UserError(message, file=located.file, key=full,
                        line=located.line_of(path) if path else None) from None
