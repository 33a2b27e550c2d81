"""Reading the project's own files: inside the project, regular files only, bounded, UTF-8.

Content and config arrive through git from several people, and git stores symlinks: one commit
of `content/towns/parker.md -> ~/.config/seo/google-token.json` must not publish the token. So
every file the project reads is resolved first and refused, with one line, when it leads out of
the project folder, is a broken symlink, a folder, a FIFO (which would block the read forever), a
device or a socket, or is larger than a limit. A leading UTF-8 byte order mark is dropped.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from .errors import UserError

MAX_TEXT = 4 * 1024 * 1024  # one Markdown file, template or note
# C0 controls but tab, line feed and carriage return; DEL; C1 controls; the Unicode line and
# paragraph separators (they end a line for Python and JavaScript, never in an editor).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
MAX_PATH = 4096  # longer paths are refused before the system is asked (ENAMETOOLONG)


def project_root(root: Path | str) -> Path:
    """The project folder, resolved; one line for anything that is not a readable folder."""
    text = os.fspath(root)
    shown = text if len(text) <= 80 else text[:77] + "..."
    if "\0" in text:
        raise UserError("the project folder name contains a NUL character", key="--root")
    if len(text) > MAX_PATH or any(len(part.encode()) > 255 for part in Path(text).parts):
        raise UserError(f"{shown!r} is too long for a folder name", key="--root")
    try:
        path = Path(text).resolve(strict=True)
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UserError(f"no such folder {shown!r}", key="--root") from None
    except (OSError, RuntimeError) as exc:
        raise UserError(f"cannot open {shown!r}: {_why(exc)}", key="--root") from None
    if not stat.S_ISDIR(mode):
        raise UserError(f"{shown!r} is not a folder", key="--root")
    return path


def inside(path: Path, root: Path) -> bool:
    """Whether `path`, every symlink along it resolved, is `root` or lies under it."""
    return _within(os.path.realpath(path), os.path.realpath(root))


def _within(real: str, base: str) -> bool:
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


class Reader:
    """Reads one project's files for one load. Each folder's real path is resolved once per
    `Reader` (a load of 10,000 notes resolves 1,000 folders, not 10,000 paths); make a new one
    for every load, so a folder that became a symlink since is seen."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.base = os.path.realpath(root) if root is not None else None
        self._dirs: dict[str, str] = {}

    def _real(self, path: Path, display: str) -> tuple[str, os.stat_result]:
        """(real path, its stat) of `path`; one line for a missing file or a broken symlink."""
        parent, name = os.path.split(os.fspath(path))
        folder = self._dirs.get(parent)
        if folder is None:
            folder = self._dirs[parent] = os.path.realpath(parent or ".")
        real = os.path.join(folder, name)
        try:
            info = os.lstat(real)
            if stat.S_ISLNK(info.st_mode):
                real = os.path.realpath(real)
                info = os.stat(real)  # before opening: opening a device can have effects of its own
        except FileNotFoundError:
            raise UserError("broken symlink (it points to nothing)" if os.path.lexists(path)
                            else "file not found", file=display) from None
        except OSError as exc:
            raise UserError(f"cannot read: {_why(exc)}", file=display) from None
        return real, info

    def bytes(self, path: Path, display: str, limit: int = MAX_TEXT) -> bytes:
        """The bytes of a regular file inside the root (any file when the root is None)."""
        real, info = self._real(path, display)
        if self.base is not None and not _within(real, self.base):
            raise UserError("leads out of the project through a symlink; refused "
                            "(content and config must be files inside the project)", file=display)
        _require_regular(info.st_mode, display)
        if info.st_size > limit:
            raise UserError(f"larger than {limit // 1024:,} KB; refused", file=display)
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise UserError(f"cannot read: {_why(exc)}", file=display) from None
        try:
            _require_regular(os.fstat(fd).st_mode, display)  # it may have been swapped since
            chunks, size = [], 0
            while size <= limit:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > limit:
                raise UserError(f"larger than {limit // 1024:,} KB; refused", file=display)
            return b"".join(chunks)
        except OSError as exc:
            raise UserError(f"cannot read: {_why(exc)}", file=display) from None
        finally:
            os.close(fd)

    def text(self, path: Path, display: str, limit: int = MAX_TEXT) -> str:
        """UTF-8 text of a project file, byte order mark dropped, no control characters."""
        data = self.bytes(path, display, limit)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise UserError("not UTF-8 text", file=display, line=line) from None
        text = text.removeprefix("\ufeff")
        check_text(text, display)
        return text


def read_project_bytes(path: Path, display: str, *, root: Path | None,
                       limit: int = MAX_TEXT) -> bytes:
    """The bytes of a regular file inside `root` (any file when `root` is None: built-in ones)."""
    return Reader(root).bytes(path, display, limit)


def read_project_text(path: Path, display: str, *, root: Path | None,
                      limit: int = MAX_TEXT) -> str:
    """UTF-8 text of a project file, byte order mark dropped, no control characters."""
    return Reader(root).text(path, display, limit)


def check_text(text: str, file: str, *, line_offset: int = 0) -> None:
    """Refuse a control character (NUL, escape, ...) anywhere in the text: one line, with its line."""
    bad = CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1 + line_offset
        raise UserError(f"control character U+{ord(bad.group()):04X} is not allowed", file=file,
                        line=line)


def project_files(folder: Path, pattern: str = "*.md") -> list[Path]:
    """Entries of `folder` matching `pattern`, sorted, without hidden ones (editor lock files such
    as `.#parker.md` are dangling symlinks). Folders and other non-files are returned too: reading
    one gives its one-line error."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if not p.name.startswith("."))


def _require_regular(mode: int, display: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise UserError(f"is {kind}, not a regular file; refused", file=display)


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return "too many levels of symlinks"
        return exc.strerror or type(exc).__name__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
