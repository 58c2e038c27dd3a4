"""The Redshift the loads go to: a new Serverless namespace and workgroup, or an existing cluster.

Either way the COPY role is a chain: the role attached to Redshift assumes one per-source role
(`<prefix>-copy-<source>`) that can read only that source's processed files and manifests.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_redshiftserverless as redshiftserverless
from constructs import Construct

from onboard_cdk.naming import copy_role_name
from onboard_cdk.settings import DeploySettings, ExistingCluster, ServerlessWarehouse

REDSHIFT_PRINCIPALS = ("redshift.amazonaws.com", "redshift-serverless.amazonaws.com")


@dataclass(frozen=True)
class WarehouseTarget:
    """What a source's loader needs: Data API parameters (as environment) and what to allow."""

    environment: dict[str, str]
    attached_role_arn: str
    data_api_resources: list[str]
    credential_statement: iam.PolicyStatement


def copy_role_arn(prefix: str, source: str) -> str:
    return f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{copy_role_name(prefix, source)}"


class ServerlessWarehouseConstruct(Construct):
    """A VPC with isolated subnets in three AZs (flow logs on), a namespace and a private workgroup."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, config: ServerlessWarehouse,
                 key: kms.IKey, sources: list[str], log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, construct_id)
        prefix = settings.prefix
        self.vpc = ec2.Vpc(
            self, "Vpc", ip_addresses=ec2.IpAddresses.cidr(config.vpc_cidr), max_azs=3, nat_gateways=0,
            restrict_default_security_group=False,
            subnet_configuration=[ec2.SubnetConfiguration(name="warehouse", cidr_mask=24,
                                                          subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)})
        flow_log_group = logs.LogGroup(self, "FlowLogs", encryption_key=key, retention=log_retention)
        self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group))
        self.security_group = ec2.SecurityGroup(
            self, "WorkgroupSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Redshift Serverless workgroup: no inbound rules; the loads use the Data API")
        self.security_group.add_egress_rule(ec2.Peer.ipv4(config.vpc_cidr), ec2.Port.tcp(443),
                                            "HTTPS to the S3 gateway endpoint and VPC services")
        self.attached_role = attached_copy_role(self, prefix, sources)
        name = f"{prefix}-warehouse"
        self.namespace = redshiftserverless.CfnNamespace(
            self, "Namespace", namespace_name=name, db_name=config.database, kms_key_id=key.key_arn,
            admin_username="onboard_admin", manage_admin_password=True,
            admin_password_secret_kms_key_id=key.key_arn,
            iam_roles=[self.attached_role.role_arn], default_iam_role_arn=self.attached_role.role_arn,
            log_exports=["userlog", "connectionlog", "useractivitylog"])
        self.workgroup = redshiftserverless.CfnWorkgroup(
            self, "Workgroup", workgroup_name=name, namespace_name=name, base_capacity=config.base_capacity,
            enhanced_vpc_routing=True, publicly_accessible=False,
            subnet_ids=self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
            config_parameters=[redshiftserverless.CfnWorkgroup.ConfigParameterProperty(
                parameter_key="require_ssl", parameter_value="true"),
                redshiftserverless.CfnWorkgroup.ConfigParameterProperty(
                parameter_key="enable_user_activity_logging", parameter_value="true")])
        self.workgroup.add_resource_dependency(self.namespace)
        self.target = WarehouseTarget(
            environment={"ONBOARD_REDSHIFT_DATABASE": config.database, "ONBOARD_REDSHIFT_WORKGROUP": name},
            attached_role_arn=self.attached_role.role_arn,
            data_api_resources=[self.workgroup.attr_workgroup_workgroup_arn],
            credential_statement=iam.PolicyStatement(actions=["redshift-serverless:GetCredentials"],
                                                     resources=[self.workgroup.attr_workgroup_workgroup_arn]))


def attached_copy_role(scope: Construct, prefix: str, sources: list[str]) -> iam.Role:
    """The role attached to the namespace: it may only assume the named per-source COPY roles."""
    role = iam.Role(scope, "CopyChainRole", assumed_by=iam.CompositePrincipal(
        *(iam.ServicePrincipal(p) for p in REDSHIFT_PRINCIPALS)),
        description="Attached to Redshift; COPY chains from it into one source's read-only role")
    role.add_to_policy(iam.PolicyStatement(actions=["sts:AssumeRole"],
                                           resources=[copy_role_arn(prefix, s) for s in sorted(sources)]))
    return role


def existing_cluster_target(config: ExistingCluster) -> WarehouseTarget:
    cluster = f"arn:{Aws.PARTITION}:redshift:{Aws.REGION}:{Aws.ACCOUNT_ID}"
    return WarehouseTarget(
        environment={"ONBOARD_REDSHIFT_DATABASE": config.database,
                     "ONBOARD_REDSHIFT_CLUSTER": config.cluster_identifier,
                     "ONBOARD_REDSHIFT_DB_USER": config.db_user},
        attached_role_arn=config.attached_role_arn,
        data_api_resources=[f"{cluster}:cluster:{config.cluster_identifier}"],
        credential_statement=iam.PolicyStatement(actions=["redshift:GetClusterCredentials"], resources=[
            f"{cluster}:dbuser:{config.cluster_identifier}/{config.db_user}",
            f"{cluster}:dbname:{config.cluster_identifier}/{config.database}"]))
