"""glue/pii.py: hash, mask and drop as the job applies them, and a dropped value never quoted in a reason."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from onboard_glue.config import ColumnSpec
from onboard_glue.pii import Protection, hmac_hex
from onboard_glue.transform import column_reason, typed_value

pytestmark = pytest.mark.slow


def test_hash_is_the_hmac_of_the_utf8_value_and_mask_keeps_the_last_four_characters(spark):
    frame = spark.createDataFrame([("ann@example.com",), ("Zoë ✓ 1234",), ("a\nbcdef",), ("1234",), ("",), (None,)],
                                  "v string")
    protection = Protection.for_columns(["hash", "mask"], "pii_salt", read=lambda name: f"key-of-{name}")
    hashed = [r[0] for r in frame.select(protection.protected("hash", frame.v)).collect()]
    masked = [r[0] for r in frame.select(protection.protected("mask", frame.v)).collect()]
    key = b"key-of-pii_salt"
    assert hashed == [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in
                      ("ann@example.com", "Zoë ✓ 1234", "a\nbcdef", "1234", "")] + [None]
    assert hmac_hex(key, "ann@example.com") == hashed[0]
    assert masked == ["***********.com", "******1234", "***cdef", "1234", "", None]
    assert protection.protected("drop", frame.v) is None
    value = frame.v
    assert protection.protected(None, value) is value


def test_no_secret_is_read_without_a_hashed_column():
    assert Protection.for_columns(["mask", "drop", None], None, read=lambda name: pytest.fail(name)).key is None


def test_a_pii_value_that_does_not_cast_is_not_quoted_in_its_reason(spark):
    born = ColumnSpec(name="born", source="born", type="date", pii="drop")
    plain = ColumnSpec(name="day", source="day", type="date")
    frame = spark.createDataFrame([("1990-13-45",)], "v string")
    reasons = frame.select(column_reason(born, frame.v, typed_value(born, "v")),
                           column_reason(plain, frame.v, typed_value(plain, "v"))).first()
    assert list(reasons) == ["cast: born value (PII, not shown) is not date",
                             "cast: day value '1990-13-45' is not date"]
