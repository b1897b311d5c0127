"""What the deployment checks share: the Dockerfile's stages as BuildKit's parser reads them."""

from pathlib import Path

import dockerfile

ROOT = Path(__file__).resolve().parents[2]


def stages():
    """Stage name -> its commands, in order."""
    found, current = {}, None
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            current = command.value[2] if len(command.value) == 3 else f"stage{len(found)}"
            found[current] = []
        found[current].append(command)
    return found
