"""`onboard docs`: a thin click wrapper over framework.render.docs_site."""

from __future__ import annotations

from pathlib import Path

import click

from framework.cli import _sources, main, out
from framework.project import Project


@main.command("docs")
@click.option("--out", "outdir", default="site", show_default=True, help="Folder of the HTML pages.")
@click.pass_obj
def docs(project: Project, outdir: str) -> None:
    """Write a static data dictionary: index.html (with a search filter) and one page per source and dataset.

    Columns with types, descriptions and PII policy, quality rules, keys, schedule or trigger and lineage. Open
    index.html in a browser: no server is needed, and the same definitions give the same files.
    """
    from framework.cli_datasets import datasets_or_exit
    from framework.render.docs_site import write_site

    sources = _sources(project)
    target = Path(outdir) if Path(outdir).is_absolute() else project.root / outdir
    written = write_site(sources, target, datasets_or_exit(project, sources))
    out.print(f"wrote {len(written)} page(s) to {project.display(target)}/ (open index.html)", markup=False)
