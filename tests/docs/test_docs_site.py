"""`onboard docs`: the data dictionary's pages (exact fragments), the search index and deterministic output."""

from __future__ import annotations

from click.testing import CliRunner

from framework.cli import main
from framework.render.docs_site import render_site
from framework.spec import load_project
from tests.conftest import write_source

PEOPLE = """
source:
  name: people
  description: People <from> the CRM
  owner: crm@example.com
  type: rest_api
  config:
    endpoint: https://api.example.com/people
    schedule: rate(1 hour)
  schema:
    type: json
    columns:
      - {name: id, type: integer, nullable: false, description: Person id}
      - {name: email, type: string, pii: hash, description: Login}
      - {name: phone, type: string(32), pii: mask}
      - {name: ssn, type: string, pii: drop}
      - {name: amount, type: 'decimal(10,2)'}
  redshift:
    schema: crm
    table: people
    sortkey: id
    load: {mode: merge, keys: [id]}
  quality:
    threshold: 0.9
    rules:
      - {id: positive, rule: range, column: amount, min: 0}
"""

COLUMNS = """<tbody>
<tr><td>id</td><td>integer</td><td>no</td><td>id</td><td>Person id</td><td></td></tr>
<tr><td>email</td><td>string</td><td>yes</td><td>email</td><td>Login</td><td><span class="pii" title="PII: HMAC-SHA-256 (hex) of the value keyed with schema.pii_secret">hashed (HMAC-SHA-256)</span></td></tr>
<tr><td>phone</td><td>string(32)</td><td>yes</td><td>phone</td><td></td><td><span class="pii" title="PII: masked, all but the last 4 characters replaced by *">masked (last 4 kept)</span></td></tr>
<tr><td>ssn</td><td>string</td><td>yes</td><td>ssn</td><td></td><td><span class="pii" title="PII: dropped, kept only in the raw zone">dropped</span></td></tr>
<tr><td>amount</td><td>decimal(10,2)</td><td>yes</td><td>amount</td><td></td><td></td></tr>
</tbody>"""  # noqa: E501

LINEAGE = """<div class="lineage">
<div class="node"><b>source</b>rest_api (schedule rate(1 hour))</div>
<span class="arrow">&rarr;</span><div class="node"><b>raw</b>raw/people/</div>
<span class="arrow">&rarr;</span><div class="node"><b>processed</b>processed/people/</div>
<span class="arrow">&rarr;</span><div class="node"><b>table</b>crm.people</div>
</div>"""


def test_a_source_page_shows_columns_pii_rules_keys_and_lineage(project):
    write_source(project, "people.yaml", PEOPLE)
    site = render_site(load_project(project))
    assert sorted(site) == ["index.html", "sources/people.html"]
    page = site["sources/people.html"]
    assert "<h1>people</h1>\n<p>People &lt;from&gt; the CRM</p>" in page  # escaped
    assert "<dt>Owner</dt><dd>crm@example.com</dd>\n<dt>Kind</dt><dd>rest_api</dd>\n" \
           "<dt>When</dt><dd>schedule rate(1 hour)</dd>" in page
    assert "<dt>Load</dt><dd>merge on id</dd>\n<dt>Distribution</dt><dd>auto</dd>\n<dt>Sort key</dt><dd>id</dd>" \
        in page
    assert COLUMNS in page
    assert LINEAGE in page
    assert "The raw zone keeps the original values of the PII columns" in page
    assert ("<tr><td>positive</td><td>range</td><td>amount</td><td>min 0.0</td><td>reject</td></tr>" in page)
    assert "at least 0.9 of its rows are valid" in page
    assert "http" not in page.replace("https://api.example.com", "")  # nothing fetched from the network
    index = site["index.html"]
    assert '<td><a href="sources/people.html">people</a></td>' in index
    assert 'data-search="people crm.people crm@example.com people &lt;from&gt; the crm id email phone ssn amount ' \
           'person id login   "' in index
    assert '<span class="pii">email: hashed (HMAC-SHA-256)</span> <span class="pii">phone: masked (last 4 kept)' \
           '</span> <span class="pii">ssn: dropped</span>' in index
    assert 'document.getElementById("filter").addEventListener("input"' in index


def test_docs_writes_the_same_bytes_every_time(project):
    write_source(project, "people.yaml", PEOPLE)
    cli = CliRunner()
    first = cli.invoke(main, ["--project", str(project.root), "docs", "--out", "one"])
    assert (first.exit_code, first.output) == (0, "wrote 2 page(s) to one/ (open index.html)\n")
    cli.invoke(main, ["--project", str(project.root), "docs", "--out", "two"])
    for rel in ("index.html", "sources/people.html"):
        assert (project.root / "one" / rel).read_bytes() == (project.root / "two" / rel).read_bytes()


def test_the_examples_datasets_get_pages_linked_both_ways_from_their_sources(tmp_path):
    import shutil

    from framework.project import Project
    from framework.spec.datasets import load_datasets
    from tests.conftest import REPO

    for folder in ("sources", "schemas", "datasets"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    project = Project(tmp_path)
    sources = load_project(project)
    site = render_site(sources, load_datasets(project, sources))
    assert sorted(path for path in site if path.startswith("datasets/")) == ["datasets/revenue_by_tier.html"]
    page = site["datasets/revenue_by_tier.html"]
    assert "<dt>View</dt><dd>curated.revenue_by_tier</dd>" in page
    assert "<dt>Kind</dt><dd>curated dataset (materialized view)</dd>" in page
    for table, source in (("sales.customers", "customers"), ("sales.products", "products"),
                          ("sales.transactions", "sales_transactions")):
        assert f'<b>reads</b><a href="../sources/{source}.html">{table}</a>' in page
        assert ('<p>Read by: <a href="../datasets/revenue_by_tier.html">curated.revenue_by_tier</a></p>'
                in site[f"sources/{source}.html"])
    assert "Read by:" not in site["sources/product_reviews.html"]
    assert "SUM(t.total_amount) AS revenue" in page.split("<pre>")[1].split("</pre>")[0]
    assert '<a href="datasets/revenue_by_tier.html">revenue_by_tier</a>' in site["index.html"]
    assert "7 source(s), 1 dataset(s)." in site["index.html"]
