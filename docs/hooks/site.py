"""mkdocs hooks: the home page from README.md, repository files the pages link to, the
CLI reference generated from the command line's argparse parser, and the package layout
from the modules' docstrings.

Pages are written to read well on GitHub too, so they link to the repository as it is
(`../README.md#quickstart`, `../examples/dental_clinic.yaml`); the site has the README
as its home page and a copy of each linked file, and these links are rewritten to them
before mkdocs checks every link (`mkdocs build --strict` fails on one that leads nowhere).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
# Repository folders whose files a page may link to; each linked file is copied.
LINKED_FOLDERS = ("examples", "notebooks")
CLI_MARKER = "<!-- cli-reference -->"
LAYOUT_MARKER = "<!-- package-layout -->"


def on_files(files: Files, config: Any) -> Files:
    """The home page is README.md; linked repository files come along as they are."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "index.md", content=readme_as_home(readme)))
    for folder in LINKED_FOLDERS:
        for path in sorted((ROOT / folder).iterdir()):
            if path.is_file() and path.suffix in {".yaml", ".ipynb"}:
                files.append(
                    File.generated(config, f"{folder}/{path.name}", abs_src_path=str(path))
                )
    files.append(File.generated(config, "LICENSE.txt", abs_src_path=str(ROOT / "LICENSE")))
    return files


def readme_as_home(readme: str) -> str:
    """README.md's links are relative to the repository: in the site, to the pages."""
    return re.sub(r"\]\(docs/", "](", readme).replace("](LICENSE)", "](LICENSE.txt)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    markdown = re.sub(r"\]\(\.\./README\.md", "](index.md", markdown)
    markdown = re.sub(rf"\]\(\.\./({'|'.join(LINKED_FOLDERS)})/", r"](\1/", markdown)
    if CLI_MARKER in markdown:
        reference = _load("cli_reference")
        markdown = markdown.replace(CLI_MARKER, reference.render(reference.build_parser()))
    if LAYOUT_MARKER in markdown:
        markdown = markdown.replace(LAYOUT_MARKER, _load("package_layout").render())
    return markdown


def _load(name: str) -> ModuleType:
    """A module beside this one (mkdocs loads hooks by path, not from a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
