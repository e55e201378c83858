"""Reading the files a user names (resolv.conf, a snapshot, a kubeconfig): regular files only, and capped.

A FIFO, a device or a directory is refused at once (opening is non-blocking, so a FIFO with no writer cannot
hang the run); a file past the cap is refused instead of read into memory. Both raise OSError with a one-line
`strerror`, so every caller's `except OSError` reports them as it reports a missing file.
"""

from __future__ import annotations

import errno
import os
import stat

MAX_BYTES = 64 * 2**20
"""64 MiB: a snapshot of a 250,000-pod cluster is far below; /dev/zero or a runaway file is refused."""


def kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str, limit: int = MAX_BYTES) -> None:
    """Raise OSError unless `path` is a regular file of at most `limit` bytes (a missing file raises too)."""
    os.close(_open(path, limit))


def flag_path(path: str | None, flag: str, limit: int = MAX_BYTES) -> str | None:
    """`path` as given to `flag`, refused (UsageError, exit 2) when it is there but a FIFO, a device, a directory
    or past `limit`; a missing file passes (the probe reports it as a read that failed)."""
    if not path or not os.path.exists(path):
        return path
    try:
        check_regular(path, limit)
    except OSError as e:
        from aksdiag.errors import UsageError

        raise UsageError(f"{flag} {path}: {e.strerror or e}") from None
    return path


def read_bytes(path: str, limit: int = MAX_BYTES) -> bytes:
    fd = _open(path, limit)
    try:
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // 2**20} MiB", path)
    return b"".join(chunks)


def read_text(path: str, limit: int = MAX_BYTES) -> str:
    return read_bytes(path, limit).decode("utf-8", errors="replace")


def _open(path: str, limit: int = MAX_BYTES) -> int:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"{kind_of(st.st_mode)}, not a regular file", path)
        if st.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit // 2**20} MiB", path)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
