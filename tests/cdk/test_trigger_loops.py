"""The CDK app refuses manifests whose trigger watches a folder Onboard writes, so no template can express
the loop (a connector triggered again by its own copy), even from hand-edited or stale manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onboard_cdk.manifests import ManifestError, load_manifests
from tests.conftest import REPO

LOOP = "objects Onboard writes there would trigger this connector again, in a loop; watch a prefix outside every " \
       "source's folders, e.g. 'incoming/sales_transactions/'"


def generated(tmp_path: Path, trigger: dict[str, str]) -> Path:
    """generated/ with the sales_transactions and customers manifests, the first one's trigger changed."""
    root = tmp_path / "generated"
    for name in ("sales_transactions", "customers"):
        data = json.loads((REPO / "generated" / name / "manifest.json").read_text(encoding="utf-8"))
        if name == "sales_transactions":
            data["connector"]["trigger"].update(trigger)
        (root / name).mkdir(parents=True)
        (root / name / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    return root


CASES = [
    ("own landing folder", {"prefix": "sales_transactions/"},
     f"sales_transactions/manifest.json: trigger prefix 'sales_transactions/' overlaps the raw landing prefix "
     f"'sales_transactions/' of source sales_transactions: {LOOP} (fix config.prefix in "
     "sources/sales_transactions.yaml, then `onboard generate`)"),
    ("another source's landing folder", {"prefix": "customers/2024/"},
     f"sales_transactions/manifest.json: trigger prefix 'customers/2024/' overlaps the raw landing prefix "
     f"'customers/' of source customers: {LOOP} (fix config.prefix in sources/sales_transactions.yaml, then "
     "`onboard generate`)"),
    ("the whole raw bucket", {"prefix": ""},
     f"sales_transactions/manifest.json: trigger prefix '' overlaps the raw landing prefix 'customers/' of source "
     f"customers: {LOOP} (fix config.prefix in sources/sales_transactions.yaml, then `onboard generate`)\n"
     f"sales_transactions/manifest.json: trigger prefix '' overlaps the raw landing prefix 'sales_transactions/' of "
     f"source sales_transactions: {LOOP} (fix config.prefix in sources/sales_transactions.yaml, then "
     "`onboard generate`)"),
    ("the quarantine zone", {"bucket": "${BUCKET:quarantine}", "prefix": "customers/"},
     f"sales_transactions/manifest.json: trigger prefix 'customers/' overlaps the quarantine prefix 'customers/' of "
     f"source customers: {LOOP} (fix config.prefix in sources/sales_transactions.yaml, then `onboard generate`)"),
]


@pytest.mark.parametrize("trigger, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_trigger_on_a_written_folder_stops_the_app_before_any_stack(tmp_path, trigger, message):
    with pytest.raises(ManifestError) as caught:
        load_manifests(generated(tmp_path, trigger))
    assert str(caught.value) == message


@pytest.mark.parametrize("trigger", [{"prefix": "incoming/sales/"}, {"prefix": "sales_transactions_drop/"},
                                     {"bucket": "partner-drop", "prefix": "sales_transactions/"}],
                         ids=["its own folder", "a name that only starts the same", "another bucket"])
def test_triggers_clear_of_every_written_folder_are_deployed(tmp_path, trigger):
    assert [m.name for m in load_manifests(generated(tmp_path, trigger))] == ["customers", "sales_transactions"]


def test_the_example_manifests_have_no_loop():
    assert {"customers", "sales_transactions"} <= {m.name for m in load_manifests(REPO / "generated")}


def test_the_cdk_app_itself_refuses_to_build(tmp_path):
    from onboard_cdk.app import build_app

    generated(tmp_path, {"prefix": "sales_transactions/"})
    with pytest.raises(ManifestError, match=r"^sales_transactions/manifest.json: trigger prefix 'sales_transactions/' "
                                            r"overlaps the raw landing prefix"):
        build_app(tmp_path, tmp_path / "cdk.out", nag=False)
    assert not (tmp_path / "cdk.out").exists()
