"""The README and docs/ stand alone in a clone: every relative link resolves to a file (and heading)
of the repository, and nothing points at papers outside it."""

import re
import subprocess

from tests.support import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OUTSIDE = re.compile(r"\.\./shared|shared/spec|DESIGN\.md|api-v1\.md")


def _anchors(path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", path.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in headings}


def test_relative_links_resolve():
    broken = []
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
            if re.match(r"^[a-z]+:", target) or target.startswith("/"):
                continue  # a web address, or a path the running app serves
            file_part, _, anchor = target.partition("#")
            path = (document.parent / file_part).resolve() if file_part else document
            if not path.exists() or (anchor and path.suffix == ".md" and anchor not in _anchors(path)):
                broken.append(f"{document.relative_to(ROOT)} → {target}")
    assert not broken, broken


def test_nothing_points_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in tracked:
        if not name.endswith((".md", ".py", ".html", ".sh", ".txt", ".toml", ".js")) or name.startswith("tests/ops/"):
            continue
        if OUTSIDE.search((ROOT / name).read_text(errors="replace")):
            offenders.append(name)
    assert not offenders, offenders
