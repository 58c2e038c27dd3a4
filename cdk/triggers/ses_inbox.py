"""`ses`: an SES receipt rule for the source's recipients stores each message in the lake, then invokes
the connector with the message id.

The rule lives in the platform's receipt rule set (`<prefix>-inbound`, see `PlatformStack`); SES runs a
rule's actions in order, so the message is in S3 before the Lambda action's event arrives. SES scans for
spam and viruses (`scan_enabled`) and the connector quarantines a message whose verdicts fail.
"""

from __future__ import annotations

from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions

from onboard_cdk.access import bucket_name, zone_of
from onboard_cdk.lake_buckets import BUCKETS
from onboard_cdk.naming import receipt_rule_set_name
from onboard_cdk.triggers import TriggerContext, register

INBOX_ROOT = "_inbox/"  # SES may write only below this prefix of the raw bucket (platform bucket policy)


@register("ses")
def ses_trigger(context: TriggerContext) -> None:
    trigger = context.trigger
    bucket = s3.Bucket.from_bucket_name(context.stack, "InboxBucket",
                                        bucket_name(context.prefix, zone_of(trigger["bucket"], BUCKETS)))
    ses.ReceiptRule(
        context.stack, "ReceiptRule",
        rule_set=ses.ReceiptRuleSet.from_receipt_rule_set_name(
            context.stack, "RuleSet", receipt_rule_set_name(context.prefix)),
        receipt_rule_name=f"{context.prefix}-{context.source}".replace("_", "-"),
        recipients=list(trigger["recipients"]), scan_enabled=True, tls_policy=ses.TlsPolicy.REQUIRE,
        actions=[ses_actions.S3(bucket=bucket, object_key_prefix=trigger["prefix"]),
                 ses_actions.Lambda(function=context.function,
                                    invocation_type=ses_actions.LambdaInvocationType.EVENT)])
