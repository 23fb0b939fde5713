"""Download and unpacked size of what a ``pip install --dry-run --report`` would install.

    pip install --dry-run --ignore-installed --report report.json -r requirements.txt
    python scripts/install_size.py report.json

pip's report names every file it would fetch but not its size. This reads each file's
size from the server (an HTTP HEAD request; a local path is measured on disk) and, for
wheels, the unpacked size of their contents from the zip's central directory (read with
HTTP range requests, so nothing is downloaded in full). The unpacked sum is what the
installed files take on disk before Python compiles them to bytecode. A local directory
in the report (``pip install .``: the project itself) is left out and named.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import urllib.parse
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


class _RemoteFile(io.RawIOBase):
    """A read-only, seekable view of a file on an HTTP server that honours Range."""

    def __init__(self, url: str, size: int) -> None:
        self.url, self.size, self.position = url, size, 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def read(self, count: int = -1) -> bytes:
        end = self.size if count is None or count < 0 else min(self.size, self.position + count)
        if end <= self.position:
            return b""
        request = urllib.request.Request(self.url, headers={"Range": f"bytes={self.position}-{end - 1}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            data = response.read()
        self.position += len(data)
        return data


def _local_path(url: str) -> Path | None:
    parsed = urllib.parse.urlparse(url)
    return Path(urllib.parse.unquote(parsed.path)) if parsed.scheme == "file" else None


def file_sizes(url: str) -> tuple[int, int | None]:
    """(download size, unpacked size or None for a file that is not a wheel) of ``url``."""
    local = _local_path(url)
    if local is not None:
        size = local.stat().st_size
        handle = open(local, "rb")
    else:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=60) as response:
            size = int(response.headers["Content-Length"])
        handle = _RemoteFile(url, size)
    with handle:
        if not url.endswith(".whl"):
            return size, None
        with zipfile.ZipFile(handle) as wheel:
            return size, sum(entry.file_size for entry in wheel.infolist())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the JSON file of pip install --dry-run --report")
    parser.add_argument("--largest", type=int, default=5, help="list this many of the largest files")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    urls = [item["download_info"]["url"] for item in report["install"]]
    # A local directory (the project itself, built in place) is not downloaded.
    local_dirs = [url for url in urls if (path := _local_path(url)) is not None and path.is_dir()]
    urls = [url for url in urls if url not in local_dirs]
    for url in local_dirs:
        print(f"left out, a local directory built in place: {_local_path(url)}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        sizes = list(pool.map(file_sizes, urls))
    download = sum(size for size, _ in sizes)
    unpacked = sum(size if inner is None else inner for size, inner in sizes)
    print(f"{len(urls)} files, download {download / 1e9:.3f} GB, unpacked {unpacked / 1e9:.3f} GB")
    ranked = sorted(zip(sizes, urls), key=lambda pair: -pair[0][0])[: args.largest]
    for (size, inner), url in ranked:
        name = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        unpacked_text = "" if inner is None else f", unpacked {inner / 1e6:.1f} MB"
        print(f"  {name}: {size / 1e6:.1f} MB{unpacked_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
