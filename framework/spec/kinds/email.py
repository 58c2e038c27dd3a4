"""`type: email`: attachments of messages that SES receives for the source's addresses."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from framework.spec.models import SourceBase, StrictModel


class EmailConfig(StrictModel):
    recipients: list[str] = Field(
        min_length=1, description="Addresses the SES receipt rule accepts for this source.",
        examples=[["invoices@data.example.com"]])
    attachment_pattern: str | list[str] = Field(
        "*", description="Filename glob (or list of globs, case-insensitive) of the attachments to land.",
        examples=["invoice_*.csv", ["*.csv", "*.CSV"]])
    content_types: list[str] = Field(
        default_factory=list,
        description="Accepted attachment content types (e.g. text/csv); empty: any type whose filename matches.")
    allowed_senders: list[str] = Field(
        default_factory=list,
        description="Sender address globs (e.g. '*@supplier.example'); empty: any sender. Others are quarantined.")
    require_verdicts: bool = Field(
        True, description="Quarantine a message whose SES SPF, DKIM, spam or virus verdict is FAIL (when present).")
    bucket: Literal["${BUCKET:raw}"] = Field("${BUCKET:raw}", description="Bucket SES stores messages in.")
    prefix: str | None = Field(
        None, description="Key prefix SES stores messages under, below `_inbox/` (default `_inbox/<name>/`).")

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [address for address in value if address.count("@") != 1 or " " in address]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return [address.lower() for address in value]

    @field_validator("prefix")
    @classmethod
    def _prefix_shape(cls, value: str | None) -> str | None:
        if value is not None and (not value.endswith("/") or not value.startswith("_inbox/") or value == "_inbox/"):
            raise ValueError("prefix must lie below '_inbox/' and end with '/', e.g. '_inbox/invoices/'")
        return value

    @property
    def patterns(self) -> list[str]:
        return [self.attachment_pattern] if isinstance(self.attachment_pattern, str) else list(self.attachment_pattern)


class EmailSource(SourceBase):
    type: Literal["email"]
    config: EmailConfig

    @model_validator(mode="after")
    def _default_prefix(self) -> EmailSource:
        if self.config.prefix is None:
            self.config.prefix = f"_inbox/{self.name}/"
        return self
