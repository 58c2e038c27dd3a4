"""Reading inbound email with the standard library: attachments, senders, SES verdicts, defects."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email import errors, policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

# Defects that mean the MIME structure itself is broken: the parts cannot be trusted.
STRUCTURAL_DEFECTS = (errors.StartBoundaryNotFoundDefect, errors.CloseBoundaryNotFoundDefect,
                      errors.MultipartInvariantViolationDefect, errors.NoBoundaryInMultipartDefect,
                      errors.MisplacedEnvelopeHeaderDefect)
SES_VERDICT_HEADERS = {"spam": "X-SES-Spam-Verdict", "virus": "X-SES-Virus-Verdict"}
_AUTH_RESULT = re.compile(r"\b(spf|dkim)=(\w+)", re.IGNORECASE)


class MalformedMessage(ValueError):
    """The message cannot be read as MIME (broken boundary, undecodable attachment)."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class InboundMessage:
    message_id: str
    sender: str
    recipients: list[str]
    attachments: list[Attachment] = field(default_factory=list)
    nested_messages: int = 0
    verdicts: dict[str, str] = field(default_factory=dict)


def parse_message(raw: bytes) -> InboundMessage:
    """Parse one MIME message (CRLF or LF line ends); raise MalformedMessage with the reason."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    _raise_on_structural_defects(message)
    parsed = InboundMessage(
        message_id=(message.get("Message-ID") or "").strip(),
        sender=parseaddr(str(message.get("From", "")))[1].lower(),
        recipients=[addr.lower() for _, addr in getaddresses(
            [str(v) for h in ("To", "Cc", "Delivered-To", "X-Original-To") for v in message.get_all(h, [])]) if addr],
        verdicts=header_verdicts(message))
    for part in _leaf_parts(message, parsed):
        filename = part.get_filename()
        if filename:
            parsed.attachments.append(Attachment(filename, part.get_content_type(), decode_payload(part, filename)))
    return parsed


def _raise_on_structural_defects(message: EmailMessage) -> None:
    for part in message.walk():
        for defect in part.defects:
            if isinstance(defect, STRUCTURAL_DEFECTS):
                raise MalformedMessage(f"malformed MIME: {type(defect).__name__} in a {part.get_content_type()} part")


def _leaf_parts(message: EmailMessage, parsed: InboundMessage) -> Iterator[EmailMessage]:
    """Non-multipart parts of the top-level message; attached messages (message/rfc822) are counted, not
    opened: their own attachments belong to another message."""
    for part in message.iter_parts():
        if part.get_content_maintype() == "message":
            parsed.nested_messages += 1
        elif part.is_multipart():
            yield from _leaf_parts(part, parsed)  # type: ignore[arg-type]
        else:
            yield part  # type: ignore[misc]


def decode_payload(part: EmailMessage, filename: str) -> bytes:
    """The attachment's bytes; invalid base64 is an error, never silently repaired."""
    encoding = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if encoding == "base64":
        text = part.get_payload(decode=False)
        compact = re.sub(r"\s+", "", text if isinstance(text, str) else "")
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedMessage(f"malformed MIME: attachment {filename!r} is not valid base64") from None
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def header_verdicts(message: EmailMessage) -> dict[str, str]:
    """SES verdicts recorded in the stored message's headers: spam/virus and SPF/DKIM results."""
    verdicts = {name: str(message[h]).strip().upper() for name, h in SES_VERDICT_HEADERS.items() if message[h]}
    for header in message.get_all("Authentication-Results", []):
        for check, result in _AUTH_RESULT.findall(str(header)):
            verdicts.setdefault(check.lower(), result.upper())
    return verdicts


def event_verdicts(receipt: dict) -> dict[str, str]:
    """Verdicts of an SES receipt (`spfVerdict`, `dkimVerdict`, `spamVerdict`, `virusVerdict`)."""
    return {name: str(receipt[f"{name}Verdict"].get("status", "")).upper()
            for name in ("spf", "dkim", "spam", "virus") if isinstance(receipt.get(f"{name}Verdict"), dict)}


def failed_verdicts(verdicts: dict[str, str]) -> list[str]:
    return sorted(name for name, status in verdicts.items() if status in ("FAIL", "SOFTFAIL"))


def matches_any(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), pattern.lower()) for pattern in patterns)
