"""The Redshift the loads go to: a new Serverless namespace and workgroup, or an existing cluster.

Either way the COPY role is a chain: the role attached to Redshift assumes one per-source role
(`<prefix>-copy-<source>`) that can read only that source's processed files and manifests.

Every loader reaches Redshift as one database user, so the first source's load does not own what the next
one needs (schemas, `onboard_meta.schema_migrations`): on Serverless the user `loader_user` whose generated
password is in the secret `<prefix>-warehouse-loader` (the Data API's `SecretArn`); on an existing cluster
the configured `db_user` (the Data API's `DbUser`, through GetClusterCredentials). The user, its schemas and
grants are created once by `generated/_platform/bootstrap.sql`.

The workgroup keeps enhanced VPC routing on (COPY traffic stays in the VPC, AWS Config's
redshift-serverless-workgroup-routes-within-vpc): its security group may reach S3 only through the VPC's S3
gateway endpoint, whose destination is the region's S3 prefix list `com.amazonaws.<region>.s3`; the
prefix list id is read at deploy time (EC2 DescribeManagedPrefixLists) since it differs per region.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_redshiftserverless as redshiftserverless
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from onboard_cdk.nag import acknowledge
from onboard_cdk.naming import copy_role_name, loader_secret_name, warehouse_name
from onboard_cdk.settings import DeploySettings, ExistingCluster, ServerlessWarehouse

AZ_REASON = ("deploy.yaml names the workgroup's AZs (warehouse.availability_zones): Fn::GetAZs may list AZs "
             "Redshift Serverless does not serve, and an env-agnostic stack cannot look them up.")
REDSHIFT_PRINCIPALS = ("redshift.amazonaws.com", "redshift-serverless.amazonaws.com")


@dataclass(frozen=True)
class WarehouseTarget:
    """What a source's loader needs: Data API parameters (as environment) and what to allow."""

    environment: dict[str, str]
    attached_role_arn: str
    data_api_resources: list[str]
    credential_statement: iam.PolicyStatement  # the loader's database identity: the secret, or the cluster user


def copy_role_arn(prefix: str, source: str) -> str:
    return f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{copy_role_name(prefix, source)}"


class ServerlessWarehouseConstruct(Construct):
    """A VPC with isolated subnets in three AZs (flow logs on), a namespace and a private workgroup."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, config: ServerlessWarehouse,
                 key: kms.IKey, sources: list[str], log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, construct_id)
        prefix = settings.prefix
        self.vpc = ec2.Vpc(
            self, "Vpc", ip_addresses=ec2.IpAddresses.cidr(config.vpc_cidr),
            max_azs=len(config.availability_zones), nat_gateways=0,
            restrict_default_security_group=False,
            subnet_configuration=[ec2.SubnetConfiguration(name="warehouse", cidr_mask=24,
                                                          subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)})
        for subnet in self.vpc.isolated_subnets:  # deploy.yaml names the AZs on purpose (see PlatformStack)
            subnet.node.default_child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3010"]}})
            acknowledge(subnet.node.default_child, "W3010", AZ_REASON, pack="CloudFormation-Validate")
        flow_log_group = logs.LogGroup(self, "FlowLogs", encryption_key=key, retention=log_retention)
        self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group))
        self.security_group = ec2.SecurityGroup(
            self, "WorkgroupSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Redshift Serverless workgroup: no inbound rules; the loads use the Data API")
        self.security_group.add_egress_rule(ec2.Peer.prefix_list(s3_prefix_list_id(self)), ec2.Port.tcp(443),
                                            "HTTPS to S3 through the VPC's gateway endpoint (COPY)")
        self.attached_role = attached_copy_role(self, prefix, sources)
        name = warehouse_name(prefix)
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
        # Deleting the stack must not delete the data: remove them on purpose (docs: README "First deploy").
        for resource in (self.namespace, self.workgroup):
            resource.apply_removal_policy(RemovalPolicy.RETAIN)
        self.loader_secret = loader_secret(self, prefix, config.loader_user, key)
        self.target = WarehouseTarget(
            environment={"ONBOARD_REDSHIFT_DATABASE": config.database, "ONBOARD_REDSHIFT_WORKGROUP": name,
                         "ONBOARD_REDSHIFT_SECRET_ARN": self.loader_secret.secret_arn},
            attached_role_arn=self.attached_role.role_arn,
            data_api_resources=[self.workgroup.attr_workgroup_workgroup_arn],
            credential_statement=iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"],
                                                     resources=[self.loader_secret.secret_arn]))


def loader_secret(scope: Construct, prefix: str, user: str, key: kms.IKey) -> secretsmanager.Secret:
    """`{"username", "password"}` of the loader user (what the Data API reads through `SecretArn`), encrypted with
    the platform key. The password is generated: letters and digits (Redshift needs an upper-case letter, a
    lower-case letter and a digit; punctuation is left out so it never needs quoting)."""
    secret = secretsmanager.Secret(
        scope, "LoaderSecret", secret_name=loader_secret_name(prefix), encryption_key=key,
        description="Onboard: the Redshift user every loader connects as (created by generated/_platform/"
                    "bootstrap.sql)",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template=json.dumps({"username": user}), generate_string_key="password",
            password_length=32, exclude_punctuation=True, require_each_included_type=True),
        removal_policy=RemovalPolicy.RETAIN)
    acknowledge(secret, "SMG4", "Rotating the password needs a rotation function with network access to the "
                "private workgroup; the password is set once by the bootstrap SQL and read only by the loaders.")
    return secret


def s3_prefix_list_id(scope: Construct) -> str:
    """The id of the region's AWS-managed S3 prefix list (`com.amazonaws.<region>.s3`), looked up at deploy time."""
    lookup = cr.AwsCustomResource(
        scope, "S3PrefixList", install_latest_aws_sdk=False,
        on_create=cr.AwsSdkCall(
            service="EC2", action="describeManagedPrefixLists",
            parameters={"Filters": [{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{Aws.REGION}.s3"]}]},
            physical_resource_id=cr.PhysicalResourceId.of(f"s3-prefix-list-{Aws.REGION}"),
            output_paths=["PrefixLists.0.PrefixListId"]),
        policy=cr.AwsCustomResourcePolicy.from_statements([iam.PolicyStatement(
            actions=["ec2:DescribeManagedPrefixLists"], resources=["*"])]))
    acknowledge(lookup.node.find_child("CustomResourcePolicy"), "IAM5", "ec2:DescribeManagedPrefixLists has no "
                "resource-level permission; the lookup reads the id of the region's S3 prefix list.", "Resource::*")
    singleton = Stack.of(scope).node.try_find_child(AWS_CUSTOM_RESOURCE_FUNCTION)
    if singleton is not None:
        acknowledge(singleton, "IAM4", "CDK's AwsCustomResource function logs with AWSLambdaBasicExecutionRole.",
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    return lookup.get_response_field("PrefixLists.0.PrefixListId")


AWS_CUSTOM_RESOURCE_FUNCTION = "AWS679f53fac002430cb0da5b7982bd2287"  # aws-cdk-lib's singleton id for it


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
