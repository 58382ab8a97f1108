"""Copy the pinned front-end assets from node_modules/ into the web app's static folder.

Run after `npm ci` (the Makefile does both). Idempotent: files already identical are left
alone, so repeated runs change nothing and print what they did. Nothing here downloads
anything; pages never load assets from a CDN.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import sys
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
TARGET = ROOT / "src" / "yiwang" / "web" / "static" / "vendor"

# package → [(source inside the package, destination inside vendor/)]
FILES: dict[str, list[tuple[str, str]]] = {
    "leaflet": [
        ("dist/leaflet.js", "leaflet/leaflet.js"),
        ("dist/leaflet.css", "leaflet/leaflet.css"),
        ("dist/images/layers.png", "leaflet/images/layers.png"),
        ("dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
        ("dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
        ("dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
        ("dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
        ("LICENSE", "leaflet/LICENSE"),
    ],
    "echarts": [
        ("dist/echarts.min.js", "echarts/echarts.min.js"),
        ("LICENSE", "echarts/LICENSE"),
    ],
    "htmx.org": [
        ("dist/htmx.min.js", "htmx/htmx.min.js"),
        ("LICENSE", "htmx/LICENSE"),
    ],
}


def fail(message: str) -> NoReturn:
    print(f"vendor.py: {message}", file=sys.stderr)
    sys.exit(1)


def expected_versions() -> dict[str, str]:
    package_json = ROOT / "package.json"
    try:
        return json.loads(package_json.read_text())["dependencies"]
    except (OSError, ValueError, KeyError) as exc:
        fail(f"cannot read the dependencies in {package_json}: {exc}")


def main() -> int:
    if not NODE_MODULES.is_dir():
        fail(
            f"{NODE_MODULES} is missing: run `npm ci --no-audit --no-fund` in {ROOT} first "
            "(or `make setup`)."
        )
    versions = expected_versions()
    copied = unchanged = 0
    for package, files in FILES.items():
        package_dir = NODE_MODULES / package
        try:
            installed = json.loads((package_dir / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            fail(
                f"{package} is not installed in {NODE_MODULES}: run `npm ci --no-audit --no-fund`."
            )
        wanted = versions.get(package)
        if wanted != installed:
            fail(
                f"{package} {installed} is installed but package.json pins {wanted}: "
                "run `npm ci --no-audit --no-fund` again."
            )
        for source, destination in files:
            src = package_dir / source
            dst = TARGET / destination
            if not src.is_file():
                fail(f"{src} is missing from the {package} {installed} package.")
            if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
                unchanged += 1
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(dst.name + ".tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(dst)
            copied += 1
    print(f"vendor.py: {copied} file(s) copied, {unchanged} unchanged, into {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
