"""Site building and publishing: the doorway guard and the publish targets (folder, ssh, wordpress)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
)

from .base import (
    Strict,
    Url,
)


class GuardSettings(Strict):
    similarity_threshold: float = Field(default=0.45, gt=0, le=1)
    min_local_facts: int = Field(default=6, ge=0)
    shingle_size: int = Field(default=5, ge=2, le=12)


TARGET_NAME = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class FolderTarget(Strict):
    """`seo publish` copies the build into a folder on this machine (a web server's document root)."""

    type: Literal["folder"] = "folder"
    name: str = Field(default="", pattern=f"({TARGET_NAME})?")  # default: the type
    path: str = "build/public"
    url: Url | None = None  # where the folder is served; default business.url (verify live)

    @property
    def label(self) -> str:
        return self.name or self.type


class SshTarget(Strict):
    """rsync over SSH into a new release folder, then an atomic switch of the `current` symlink."""

    type: Literal["ssh"]
    name: str = Field(default="", pattern=f"({TARGET_NAME})?")
    host: str  # a host name or address (an ssh_config alias works too)
    port: int = Field(default=22, ge=1, le=65535)
    user: str
    path: str  # an absolute folder on the server: releases/ and the `current` symlink live here
    key: str = ""  # private key file; default ssh's own (~/.ssh/id_*, the agent)
    known_hosts: str = Field(min_length=1)  # the server's host key: checking is always on
    keep: int = Field(default=5, ge=2, le=100)  # releases kept (the current one included)
    url: Url | None = None  # the live site served from `current`; default business.url
    timeout: float = Field(default=1800, gt=0, le=86400)  # seconds for the whole transfer
    connect_timeout: int = Field(default=15, ge=1, le=300)

    @property
    def label(self) -> str:
        return self.name or self.type

    @field_validator("host", "user")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        # never an option for ssh ("-oProxyCommand=..."), never a space or a shell character
        if not re.match(r"^[A-Za-z0-9_\[][A-Za-z0-9_.:\[\]-]*$", value):
            raise ValueError(f"{value!r} must be a plain name (letters, digits, . _ - :), "
                             "not starting with -")
        return value

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        parts = value.strip("/").split("/")
        if not value.startswith("/") or not value.strip("/") or any(
                p in ("", ".", "..") or not re.match(r"^[A-Za-z0-9_.@+-]+$", p) for p in parts):
            raise ValueError(f"{value!r} must be an absolute folder below / (letters, digits, "
                             "_ . @ + -; no . or .. parts)")
        return "/" + "/".join(parts)


class WordPressTarget(Strict):
    """The WordPress REST API with an Application Password, and the companion plugin (`wordpress/`)."""

    type: Literal["wordpress"]
    name: str = Field(default="", pattern=f"({TARGET_NAME})?")
    url: Url  # the WordPress site (its home URL)
    user: str = Field(min_length=1)
    password_env: str = Field(default="SEO_WORDPRESS_PASSWORD", pattern=ENV_NAME)
    front_page: bool = True  # the home page becomes the front page (only if it is not the site's own)
    requests_per_minute: int = Field(default=120, ge=1, le=6000)
    batch_size: int = Field(default=25, ge=1, le=25)  # WordPress allows 25 requests per batch
    retries: int = Field(default=3, ge=0, le=10)  # 429, 5xx and lost connections
    backoff: float = Field(default=2.0, ge=0, le=600)  # seconds; doubled on each retry
    timeout: float = Field(default=60, gt=0, le=600)  # seconds per request

    @property
    def label(self) -> str:
        return self.name or self.type

    @field_validator("url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


def _target_type(value: Any) -> str | None:
    kind = value.get("type", "folder") if isinstance(value, dict) else getattr(value, "type", None)
    # the tags start with "function-" so that error key paths leave them out (see validate.py)
    return f"function-{kind}" if kind in ("folder", "ssh", "wordpress") else None


PublishTarget = Annotated[
    Annotated[FolderTarget, Tag("function-folder")] | Annotated[SshTarget, Tag("function-ssh")]
    | Annotated[WordPressTarget, Tag("function-wordpress")],
    Discriminator(_target_type, custom_error_type="publish_type",
                  custom_error_message="type must be folder, ssh or wordpress")]


def _as_target_list(value: Any) -> Any:
    """One target or a list of them; `target:` is the old spelling of `type:`."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and "target" in item and "type" not in item:
            item = {("type" if k == "target" else k): v for k, v in item.items()}
        out.append(item)
    return out


def _unique_targets(targets: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for target in targets:
        if target.label in seen:
            raise ValueError(f"two publish targets are named {target.label!r}: give each a `name`")
        seen.add(target.label)
    return targets


PublishTargets = Annotated[list[PublishTarget], BeforeValidator(_as_target_list),
                           AfterValidator(_unique_targets), Field(min_length=1)]
