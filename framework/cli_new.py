"""`onboard new NAME --from FILE|URL`: write sources/NAME.yaml inferred from a sample (thin click wrapper;
the work is in framework.infer)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from framework.cli import err, main, out
from framework.project import Project
from framework.spec import SpecErrors, load_project

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@main.command("new")
@click.argument("name")
@click.option("--from", "origin", required=True, metavar="FILE|URL",
              help="A sample file (CSV, JSON, JSON lines, Parquet, XLSX, optionally gzipped) or an http(s) URL.")
@click.option("--type", "kind", type=click.Choice(["s3_file", "email", "stream", "http_push"]), default=None,
              help="How the files arrive (default s3_file; a URL makes a rest_api source).")
@click.option("--sample-rows", default=10_000, show_default=True, type=click.IntRange(1),
              help="Read at most this many records of the sample.")
@click.option("--header", "headers", multiple=True, metavar="'K: V'", help="URL: a request header (repeatable).")
@click.option("--schema", "warehouse_schema", default="public", show_default=True, help="Redshift schema.")
@click.option("--force", is_flag=True, help="Overwrite sources/NAME.yaml when it exists.")
@click.pass_obj
def new_command(project: Project, name: str, origin: str, kind: str | None, sample_rows: int,
                headers: tuple[str, ...], warehouse_schema: str, force: bool) -> None:
    """Infer a source definition from a sample and write sources/NAME.yaml for you to review."""
    from framework.infer import SampleError, as_json_lines, definition_text, read_sample
    from framework.infer.rest import infer_endpoint, parse_header

    if not _NAME.match(name):
        raise click.UsageError(f"NAME must be lower-case snake_case (e.g. {re.sub('[^a-z0-9]+', '_', name.lower())})")
    target = project.sources_dir / f"{name}.yaml"
    if target.exists() and not force:
        err.print(f"{project.display(target)} exists: give --force to overwrite it", style="red", markup=False)
        raise SystemExit(1)
    is_url = origin.startswith(("http://", "https://"))
    try:
        if is_url:
            if kind is not None:
                raise click.UsageError("a URL makes a rest_api source: --type does not apply")
            answer = infer_endpoint(name, origin, [parse_header(h) for h in headers], sample_rows)
            text = definition_text(name, "rest_api", answer.sample, answer.extras["endpoint"],
                                   schema=warehouse_schema, extras=answer.extras)
        else:
            if headers:
                raise click.UsageError("--header applies to a URL")
            path = Path(origin)
            if not path.is_file():
                raise click.UsageError(f"--from: no file {origin}")
            sample = read_sample(path, sample_rows)
            if kind in ("stream", "http_push"):
                as_json_lines(sample, kind)
            text = definition_text(name, kind or "s3_file", sample, path.name, schema=warehouse_schema,
                                   example_input=_inside(project, path))
    except (SampleError, ValueError) as exc:
        err.print(f"{origin}: {exc}", style="red", markup=False)
        raise SystemExit(1) from None
    project.sources_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    try:
        load_project(project, [target])
    except SpecErrors as exc:  # an inference bug: say so rather than leave a file that does not validate
        for error in exc.errors:
            err.print(str(error), markup=False)
        target.unlink()
        err.print(f"the inferred {project.display(target)} did not validate (not kept): please report it", style="red")
        raise SystemExit(1) from None
    out.print(f"wrote {project.display(target)}: review it, then `onboard validate` and `onboard generate`",
              markup=False)


def _inside(project: Project, path: Path) -> str | None:
    """The sample as example_input when it lies inside the project (paths there are relative to it)."""
    try:
        return path.resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        return None
