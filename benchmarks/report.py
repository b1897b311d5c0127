"""docs/benchmarks.md: each command rewrites its own section, between markers, and
leaves the other's figures alone."""

import os
from pathlib import Path
import platform
import re

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
IMAGES = ROOT / "docs" / "img"
HEADER = """# Benchmarks

Figures from real runs on the machine named in each section. Reproduce them with
`make eval` (NLU quality) and `make bench` (load); each rewrites its own section of
this file and its plots in `docs/img/`.
"""


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        memory = ""
    return f"{os.cpu_count()} CPU cores{f' ({model})' if model else ''}{memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def write_section(name: str, markdown: str) -> Path:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    DOC.write_text(text, encoding="utf-8")
    return DOC


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("—" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
