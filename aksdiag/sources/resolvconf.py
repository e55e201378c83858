"""Reads the host resolver configuration (resolv.conf) into a ResolverConfig fact.

Besides glibc's syntax, a nameserver may carry a port (`nameserver 127.0.0.1:5301`, `[::1]:5301` or
`127.0.0.1#5301`): glibc cannot use such a line, but the lab and tests need resolvers on high loopback ports.
"""

from __future__ import annotations

from aksdiag.errors import UsageError
from aksdiag.facts import Endpoint, ResolverConfig
from aksdiag.inputs import parse_endpoint
from aksdiag.sources import files

SYSTEMD_STUB = Endpoint("127.0.0.53", 53)
MAX_BYTES = 1 << 20
"""A resolv.conf is a few lines; glibc reads far less than this."""


def read(path: str, resolved_upstreams: str | None = None) -> ResolverConfig:
    try:
        text = files.read_text(path, MAX_BYTES)
    except OSError as e:  # missing, unreadable, or a FIFO, device, directory or huge file (never waited on)
        return ResolverConfig(path=path, error=f"cannot read {path}: {e.strerror or e}")
    config = parse(text, path)
    if resolved_upstreams and config.nameservers == (SYSTEMD_STUB,):
        upstream = read(resolved_upstreams)
        if not upstream.error:
            return ResolverConfig(
                path=config.path,
                nameservers=config.nameservers,
                search=config.search,
                ndots=config.ndots,
                rotate=config.rotate,
                upstreams=upstream.nameservers,
            )
    return config


def parse(text: str, path: str = "resolv.conf") -> ResolverConfig:
    nameservers: list[Endpoint] = []
    search: tuple[str, ...] = ()
    ndots, rotate = 1, False
    for line in text.splitlines():
        words = line.split()
        if not words or words[0][0] in "#;":  # comment lines, as glibc reads them
            continue
        key, args = words[0], words[1:]
        if key == "nameserver" and args:
            try:
                nameservers.append(parse_endpoint(args[0]))
            except UsageError:
                continue  # glibc ignores lines it cannot parse; so do we
        elif key in ("search", "domain"):
            search = tuple(a.rstrip(".").lower() for a in args)
        elif key == "options":
            for opt in args:
                if opt.startswith("ndots:") and opt[6:].isdigit():
                    ndots = min(int(opt[6:]), 15)
                elif opt == "rotate":
                    rotate = True
    return ResolverConfig(path=path, nameservers=tuple(nameservers), search=search, ndots=ndots, rotate=rotate)
