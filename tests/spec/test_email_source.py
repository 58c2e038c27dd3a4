"""The email kind's config: recipients, attachment patterns and its inbox prefix."""

from __future__ import annotations

import pytest

from framework.spec import SpecErrors, load_project
from tests.conftest import write_source

EMAIL = """
source:
  name: invoices
  type: email
  config:
    recipients: [Invoices@Data.Example.com]
    attachment_pattern: invoice_*.csv
  schema:
    type: csv
    columns:
      - {name: invoice_id, type: string}
  redshift:
    schema: procurement
    table: invoices
"""


def test_email_source_defaults_its_inbox_prefix_and_folds_recipients(project):
    write_source(project, "x.yaml", EMAIL)
    [source] = load_project(project)
    config = source.definition.config
    assert (config.prefix, config.recipients, config.patterns) == (
        "_inbox/invoices/", ["invoices@data.example.com"], ["invoice_*.csv"])


@pytest.mark.parametrize("old, new, message", [
    ("recipients: [Invoices@Data.Example.com]", "recipients: [not-an-address]",
     "sources/x.yaml:5:17: source.config.recipients: not an email address: not-an-address"),
    ("attachment_pattern: invoice_*.csv", "attachment_pattern: x\n    prefix: mail/",
     "sources/x.yaml:7:13: source.config.prefix: prefix must lie below '_inbox/' and end with '/', "
     "e.g. '_inbox/invoices/'"),
])
def test_email_config_errors_are_positioned(project, old, new, message):
    write_source(project, "x.yaml", EMAIL.replace(old, new))
    with pytest.raises(SpecErrors) as caught:
        load_project(project)
    assert [str(e) for e in caught.value.errors] == [message]
