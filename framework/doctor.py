"""`onboard doctor`: read-only checks of the AWS account and region a deploy would go to.

Each check is a function of boto3 clients (or plain values) returning one `Check`: `ok`, `warn` (deploy
can go on; something to know or do later) or `fail` (the deploy or the first run would fail), with what to
do about it. `run_checks` runs them in order; without credentials, a region or a valid identity it stops
after saying so, since every later check would fail the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

OK, WARN, FAIL = "ok", "warn", "fail"
BOOTSTRAP_STACK = "CDKToolkit"
# Stack states a deploy can publish assets through; *_IN_PROGRESS is transient, anything else is broken.
BOOTSTRAP_USABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                    "IMPORT_ROLLBACK_COMPLETE")
# Lambda keeps this many executions of a region unreserved: a reservation that would leave fewer fails.
LAMBDA_UNRESERVED_MINIMUM = 100
WAREHOUSE_MIN_AZS = 3  # a Redshift Serverless workgroup's subnets span at least three AZs
# Regions where SES receives email (inbound-smtp.<region>.amazonaws.com): us-east-1, us-west-2 and
# eu-west-1, plus the seven added in September 2023 ("Amazon SES email receiving service expands to 7 new
# regions", aws.amazon.com/about-aws/whats-new/2023/09/amazon-ses-email-service-7-regions/). The live list is
# the "Email receiving endpoints" table of docs.aws.amazon.com/general/latest/gr/ses.html.
SES_RECEIVING_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-central-1",
    "ap-northeast-1", "ap-southeast-1", "ap-southeast-2"})
SES_RECEIVING_DOC = "https://docs.aws.amazon.com/general/latest/gr/ses.html"
BOOTSTRAP_SQL = "generated/_platform/bootstrap.sql"
NO_CREDENTIALS = "no AWS credentials were found"


@dataclass(frozen=True)
class Check:
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.status:<4}  {self.check}: {self.detail}" + (f" -> {self.fix}" if self.fix else "")

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "detail": self.detail, "fix": self.fix}


def _error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)


def _code(exc: Exception) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


# --- who and where -------------------------------------------------------------------------------------------

def credentials(session: Any) -> Check:
    """The environment holds credentials (profile, variables, SSO, instance role, ...)."""
    try:
        found = session.get_credentials()
    except BotoCoreError as exc:  # a named profile that does not exist, a broken config file
        return Check("credentials", FAIL, f"{NO_CREDENTIALS} ({exc})", "fix AWS_PROFILE or ~/.aws/config")
    if found is None:
        return Check("credentials", FAIL, NO_CREDENTIALS,
                     "set AWS_PROFILE (aws configure, aws sso login) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    return Check("credentials", OK, f"found ({found.method})")


def region(name: str | None) -> Check:
    if not name:
        return Check("region", FAIL, "no AWS region configured",
                     "set AWS_REGION (or AWS_DEFAULT_REGION, or region in ~/.aws/config)")
    return Check("region", OK, name)


def identity(sts: Any) -> tuple[Check, str | None]:
    """The credentials are accepted: the account they belong to, or why not."""
    try:
        answer = sts.get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        return Check("identity", FAIL, f"the credentials were refused ({_error(exc)})",
                     "renew them (aws sso login, or new access keys)"), None
    return Check("identity", OK, f"account {answer['Account']} as {answer['Arn']}"), answer["Account"]


# --- CDK bootstrap -------------------------------------------------------------------------------------------

def bootstrap_stack(cloudformation: Any) -> dict[str, Any] | None:
    """The CDKToolkit stack (None when the environment was never bootstrapped)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except ClientError as exc:
        if _code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def bootstrap_hint(account: str, region_name: str) -> str:
    """The CDK CLI command that bootstraps one environment, as the user would type it."""
    return f"cdk bootstrap aws://{account}/{region_name}"


def cdk_bootstrap(cloudformation: Any, account: str, region_name: str) -> Check:
    """Every stack publishes its assets (Lambda code, the Glue scripts) through the bootstrap stack's bucket."""
    try:
        stack = bootstrap_stack(cloudformation)
    except (BotoCoreError, ClientError) as exc:
        return Check("cdk-bootstrap", WARN, f"could not read the {BOOTSTRAP_STACK} stack ({_error(exc)})")
    return bootstrap_verdict(stack, account, region_name)


def bootstrap_verdict(stack: Mapping[str, Any] | None, account: str, region_name: str) -> Check:
    """What the bootstrap stack's state (None: absent) means for a deploy."""
    fix = f"run `onboard deploy --bootstrap` (or `{bootstrap_hint(account, region_name)}`)"
    if stack is None:
        return Check("cdk-bootstrap", FAIL, f"no {BOOTSTRAP_STACK} stack in {region_name}", fix)
    status = stack["StackStatus"]
    version = next((o["OutputValue"] for o in stack.get("Outputs", []) if o["OutputKey"] == "BootstrapVersion"), "?")
    detail = f"{BOOTSTRAP_STACK} is {status} (bootstrap version {version})"
    if status in BOOTSTRAP_USABLE:
        return Check("cdk-bootstrap", OK, detail)
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        return Check("cdk-bootstrap", WARN, detail, "wait for it to finish, then run `onboard doctor` again")
    return Check("cdk-bootstrap", FAIL, detail,
                 f"delete the {BOOTSTRAP_STACK} stack (aws cloudformation delete-stack --stack-name "
                 f"{BOOTSTRAP_STACK}), then {fix.removeprefix('run ')}")


# --- SES -----------------------------------------------------------------------------------------------------

def ses_receiving(region_name: str, email_sources: Sequence[str]) -> Check:
    if not email_sources:
        return Check("ses-receiving", OK, "no email source: SES receiving is not needed")
    names = ", ".join(email_sources)
    if region_name in SES_RECEIVING_REGIONS:
        return Check("ses-receiving", OK, f"SES receives email in {region_name} (for {names})")
    return Check("ses-receiving", FAIL, f"SES does not receive email in {region_name}, which email source(s) "
                 f"{names} need", f"deploy to one of {', '.join(sorted(SES_RECEIVING_REGIONS))} "
                 f"(see {SES_RECEIVING_DOC})")


def ses_rule_set(ses: Any, rule_set: str, email_sources: Sequence[str]) -> Check:
    """SES runs one active receipt rule set per region; the platform's must be it for mail to arrive."""
    activate = f"aws ses set-active-receipt-rule-set --rule-set-name {rule_set}"
    try:
        active = (ses.describe_active_receipt_rule_set().get("Metadata") or {}).get("Name")
    except (BotoCoreError, ClientError) as exc:
        return Check("ses-rule-set", WARN, f"could not read the active receipt rule set ({_error(exc)})")
    if active == rule_set:
        return Check("ses-rule-set", OK, f"{rule_set} is the active receipt rule set")
    if active is None:
        return Check("ses-rule-set", WARN, f"no receipt rule set is active: mail for {', '.join(email_sources)} "
                     "is not received yet", f"after the first deploy run `{activate}` (and verify the domain)")
    return Check("ses-rule-set", WARN, f"the active receipt rule set is {active}, not {rule_set}",
                 f"SES has one active rule set per region: move {active}'s rules into {rule_set} before "
                 f"`{activate}`, or add Onboard's rules to {active}")


# --- Lambda --------------------------------------------------------------------------------------------------

def lambda_concurrency(lambda_client: Any, reserved: Mapping[str, int]) -> Check:
    """Reservations the stacks add (function name -> executions) must leave 100 executions unreserved."""
    try:
        limit = lambda_client.get_account_settings()["AccountLimit"]
        already = {}
        for name in reserved:
            try:
                answer = lambda_client.get_function_concurrency(FunctionName=name)
            except ClientError as exc:
                if _code(exc) != "ResourceNotFoundException":
                    raise
                answer = {}
            already[name] = answer.get("ReservedConcurrentExecutions", 0)
    except (BotoCoreError, ClientError) as exc:
        return Check("lambda-concurrency", WARN, f"could not read the Lambda account settings ({_error(exc)})")
    unreserved, total = limit["UnreservedConcurrentExecutions"], limit["ConcurrentExecutions"]
    more = sum(max(0, wanted - already[name]) for name, wanted in reserved.items())
    left = unreserved - more
    detail = (f"{unreserved} of {total} concurrent executions unreserved; the stacks reserve {more} more, "
              f"leaving {left} (Lambda needs at least {LAMBDA_UNRESERVED_MINIMUM} unreserved)")
    if not more and unreserved < LAMBDA_UNRESERVED_MINIMUM:
        return Check("lambda-concurrency", WARN, f"{unreserved} of {total} concurrent executions unreserved; the "
                     "stacks reserve none, but connectors and loaders share so few executions that they will be "
                     "throttled", "request a higher 'Concurrent executions' quota (Service Quotas, AWS Lambda)")
    if left >= LAMBDA_UNRESERVED_MINIMUM or not more:
        return Check("lambda-concurrency", OK, detail)
    return Check("lambda-concurrency", FAIL, detail,
                 "request a higher 'Concurrent executions' quota (Service Quotas, AWS Lambda) or reserve less "
                 "(reserved_concurrency in deploy.yaml)")


# --- Redshift Serverless AZs ----------------------------------------------------------------------------------

def availability_zones(ec2: Any, configured: Sequence[str] | None) -> Check:
    """At least three AZs that are available without opting in, and the configured ones among them."""
    try:
        zones = ec2.describe_availability_zones()["AvailabilityZones"]
    except (BotoCoreError, ClientError) as exc:
        return Check("availability-zones", WARN, f"could not list the availability zones ({_error(exc)})")
    usable = [z for z in zones if z.get("State") == "available"
              and z.get("OptInStatus", "opt-in-not-required") == "opt-in-not-required"
              and z.get("ZoneType", "availability-zone") == "availability-zone"]
    names = [z["ZoneName"] for z in usable]
    if len(names) < WAREHOUSE_MIN_AZS:
        return Check("availability-zones", FAIL, f"{len(names)} usable availability zone(s) ({', '.join(names)}); "
                     f"Redshift Serverless needs subnets in {WAREHOUSE_MIN_AZS}",
                     "deploy to another region, or name an existing cluster in deploy.yaml (warehouse.kind: cluster)")
    if configured:
        by_name_or_id = {z["ZoneName"]: z["ZoneName"] for z in usable} | {z["ZoneId"]: z["ZoneName"] for z in usable
                                                                          if "ZoneId" in z}
        missing = [zone for zone in configured if zone not in by_name_or_id]
        if missing:
            return Check("availability-zones", FAIL,
                         f"deploy.yaml warehouse.availability_zones names {', '.join(missing)}, not usable here "
                         f"(usable: {', '.join(names)})",
                         f"list {WAREHOUSE_MIN_AZS} of {', '.join(names)} in deploy.yaml warehouse.availability_zones")
        return Check("availability-zones", OK, f"{', '.join(configured)} are available (of {len(names)} usable)")
    return Check("availability-zones", OK, f"{len(names)} usable: {', '.join(names)}")


# --- streams -------------------------------------------------------------------------------------------------

def kinesis_stream(kinesis: Any, source: str, stream: str, region_name: str) -> Check:
    name = f"kinesis:{source}"
    try:
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return Check(name, FAIL, f"Kinesis stream {stream} not found in {region_name}",
                         f"create it, or correct config.stream_name of source {source}")
        return Check(name, WARN, f"could not describe Kinesis stream {stream} ({_error(exc)})")
    except BotoCoreError as exc:
        return Check(name, WARN, f"could not describe Kinesis stream {stream} ({_error(exc)})")
    status = summary["StreamStatus"]
    if status in ("ACTIVE", "UPDATING"):
        return Check(name, OK, f"Kinesis stream {stream} is {status}")
    return Check(name, WARN, f"Kinesis stream {stream} is {status}", "wait until it is ACTIVE")


def kafka_cluster(kafka: Any, source: str, cluster_arn: str) -> Check:
    name = f"kafka:{source}"
    try:
        info = kafka.describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"]
    except ClientError as exc:
        if _code(exc) in ("NotFoundException", "ResourceNotFoundException"):
            return Check(name, FAIL, f"MSK cluster {cluster_arn} not found",
                         f"correct config.cluster_arn of source {source} (the cluster must exist before the deploy)")
        return Check(name, WARN, f"could not describe MSK cluster {cluster_arn} ({_error(exc)})")
    except BotoCoreError as exc:
        return Check(name, WARN, f"could not describe MSK cluster {cluster_arn} ({_error(exc)})")
    state = info.get("State", "?")
    if state in ("ACTIVE", "UPDATING", "MAINTENANCE"):
        return Check(name, OK, f"MSK cluster {info.get('ClusterName', cluster_arn)} is {state}")
    return Check(name, WARN, f"MSK cluster {info.get('ClusterName', cluster_arn)} is {state}",
                 "wait until it is ACTIVE")


def self_managed_kafka(source: str, servers: Sequence[str]) -> Check:
    return Check(f"kafka:{source}", OK, f"self-managed brokers {', '.join(servers)} are not checked from here")


# --- the loader's database identity ----------------------------------------------------------------------------

class StatementFailed(RuntimeError):
    """A Data API statement did not finish; the message is Redshift's."""


def run_statement(data_api: Any, target: Mapping[str, str], sql: str, parameters: Mapping[str, str],
                  *, timeout_seconds: float = 120, sleep: Callable[[float], None] = time.sleep) -> list[list[Any]]:
    """Rows of one Data API statement (each a list of plain values)."""
    started = data_api.execute_statement(
        Sql=sql, Parameters=[{"name": k, "value": v} for k, v in parameters.items()], **target)
    waited = 0.0
    while True:
        described = data_api.describe_statement(Id=started["Id"])
        if described["Status"] == "FINISHED":
            break
        if described["Status"] in ("FAILED", "ABORTED"):
            raise StatementFailed(described.get("Error", described["Status"]))
        if waited >= timeout_seconds:
            raise StatementFailed(f"no answer within {timeout_seconds:.0f} s")
        sleep(0.5)
        waited += 0.5
    if not described.get("HasResultSet"):
        return []
    records = data_api.get_statement_result(Id=started["Id"])["Records"]
    return [[next(iter(field.values())) if not field.get("isNull") else None for field in row] for row in records]


USER_SQL = "SELECT usename FROM pg_user WHERE usename = :user"
# CREATE on the database lets the loader create each source's schema; on an existing schema it needs CREATE too.
GRANTS_SQL = ("SELECT 'database ' || :database, has_database_privilege(:user, :database, 'CREATE')"
              " UNION ALL SELECT 'schema ' || nspname, has_schema_privilege(:user, nspname, 'CREATE')"
              " FROM pg_namespace WHERE nspname IN ({schemas})")


def admin_connection(serverless: Any, namespace: str, target: Mapping[str, str]) -> dict[str, str]:
    """The Data API target signed in as the namespace admin (its Redshift-managed secret), so the checks see
    every user and create nothing: with no secret, the Data API would create a database user for the caller."""
    found = serverless.get_namespace(namespaceName=namespace)["namespace"]
    secret = found.get("adminPasswordSecretArn")
    return {**target, "SecretArn": secret} if secret else dict(target)


def _unreachable(exc: Exception) -> Check:
    return Check("loader-identity", WARN, f"warehouse not reachable ({_error(exc)}); the loader user is not checked",
                 "run `onboard doctor` again after the first deploy, with credentials that may read the admin secret")


def loader_identity(data_api: Any, target: Mapping[str, str], user: str, database: str, schemas: Sequence[str],
                    *, sleep: Callable[[float], None] = time.sleep) -> Check:
    """The one user every loader connects as exists and may create what the loads create."""
    fix = f"run {BOOTSTRAP_SQL} as the namespace admin (Redshift query editor, or psql)"
    try:
        if not run_statement(data_api, target, USER_SQL, {"user": user}, sleep=sleep):
            return Check("loader-identity", FAIL, f"database user {user} does not exist", fix)
        names = {f"schema{i}": schema for i, schema in enumerate(schemas)}
        sql = GRANTS_SQL.format(schemas=", ".join(f":{key}" for key in names) or "NULL")
        rows = run_statement(data_api, target, sql, {"user": user, "database": database, **names}, sleep=sleep)
    except (BotoCoreError, ClientError, StatementFailed) as exc:
        return _unreachable(exc)
    missing = sorted(what for what, allowed in rows if allowed not in (True, "true", "t"))
    if missing:
        return Check("loader-identity", FAIL, f"database user {user} lacks CREATE on {', '.join(missing)}", fix)
    return Check("loader-identity", OK, f"database user {user} exists and may create in {database}"
                 + (f" and {', '.join(sorted(what for what, _ in rows if what.startswith('schema ')))}"
                    if len(rows) > 1 else ""))


def aws_session() -> Any:
    """The session of the environment (profile, variables, SSO, instance role): what `cdk deploy` would use."""
    import boto3

    return boto3.Session()


class PreflightError(RuntimeError):
    """The environment cannot be deployed to as it is; the message says why and what to do."""


@dataclass(frozen=True)
class DeployEnvironment:
    account: str
    region: str
    bootstrapped: bool  # the CDKToolkit stack exists and is usable


def deploy_environment(session: Any) -> DeployEnvironment:
    """Where `onboard deploy` would go, and whether CDK bootstrapped it; raises PreflightError otherwise."""
    for check in (credentials(session), region(session.region_name)):
        if check.status == FAIL:
            raise PreflightError(check.line())
    who, account = identity(session.client("sts"))
    if account is None:
        raise PreflightError(who.line())
    try:
        stack = bootstrap_stack(session.client("cloudformation"))
    except (BotoCoreError, ClientError) as exc:
        raise PreflightError(f"cannot read the {BOOTSTRAP_STACK} stack: {_error(exc)}") from None
    if stack is None:
        return DeployEnvironment(account, session.region_name, False)
    verdict = bootstrap_verdict(stack, account, session.region_name)
    if verdict.status != OK:
        raise PreflightError(verdict.line())
    return DeployEnvironment(account, session.region_name, True)


# --- the whole run ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """What the checks need to know about the project: its sources and deploy.yaml."""

    prefix: str
    email_sources: tuple[str, ...]
    kinesis_streams: tuple[tuple[str, str], ...]  # (source, stream name)
    kafka_clusters: tuple[tuple[str, str], ...]  # (source, cluster ARN)
    self_managed_kafka: tuple[tuple[str, tuple[str, ...]], ...]
    reserved: Mapping[str, int]  # function name -> reserved concurrency the stacks set
    availability_zones: tuple[str, ...] | None  # None: an existing cluster, no subnets to create
    warehouse: Mapping[str, str]  # Data API target: WorkgroupName or ClusterIdentifier (+ DbUser), Database
    namespace: str | None  # Redshift Serverless: the namespace whose admin secret the checks sign in with
    loader_user: str
    schemas: tuple[str, ...]


def run_checks(session: Any, target: Target) -> Iterator[Check]:
    """Every check, in order; stops after the first of credentials, region and identity that fails."""
    from onboard_cdk.naming import receipt_rule_set_name

    found = credentials(session)
    yield found
    if found.status == FAIL:
        return
    where = region(session.region_name)
    yield where
    if where.status == FAIL:
        return
    region_name = session.region_name
    who, account = identity(session.client("sts"))
    yield who
    if account is None:
        return
    yield cdk_bootstrap(session.client("cloudformation"), account, region_name)
    if target.email_sources:
        receiving = ses_receiving(region_name, target.email_sources)
        yield receiving
        if receiving.status == OK:
            yield ses_rule_set(session.client("ses"), receipt_rule_set_name(target.prefix), target.email_sources)
    yield lambda_concurrency(session.client("lambda"), target.reserved)
    if target.availability_zones is not None:
        yield availability_zones(session.client("ec2"), target.availability_zones)
    for source, stream in target.kinesis_streams:
        yield kinesis_stream(session.client("kinesis"), source, stream, region_name)
    for source, arn in target.kafka_clusters:
        yield kafka_cluster(session.client("kafka", region_name=arn.split(":")[3] or region_name), source, arn)
    for source, servers in target.self_managed_kafka:
        yield self_managed_kafka(source, servers)
    warehouse = target.warehouse
    if target.namespace:
        try:
            warehouse = admin_connection(session.client("redshift-serverless"), target.namespace, warehouse)
        except (BotoCoreError, ClientError) as exc:
            yield _unreachable(exc)
            return
    yield loader_identity(session.client("redshift-data"), warehouse, target.loader_user, warehouse["Database"],
                          target.schemas)


def target_of(sources: Sequence[Any], settings: Any) -> Target:
    """The doctor's view of a project: its resolved sources and its deploy.yaml settings (`DeploySettings`)."""
    from framework.runtime.migrations import META_SCHEMA
    from onboard_cdk.naming import function_name, warehouse_name

    prefix, warehouse = settings.prefix, settings.warehouse
    streams = [(s.name, s.definition.config) for s in sources if s.kind == "stream"]
    if warehouse.kind == "cluster":
        data_api = {"ClusterIdentifier": warehouse.cluster_identifier, "Database": warehouse.database,
                    "DbUser": warehouse.db_user}
        user, zones, namespace = warehouse.db_user, None, None
    else:
        namespace = warehouse_name(prefix)
        data_api = {"WorkgroupName": namespace, "Database": warehouse.database}
        user, zones = warehouse.loader_user, tuple(warehouse.availability_zones)
    return Target(
        prefix=prefix,
        email_sources=tuple(s.name for s in sources if s.kind == "email"),
        kinesis_streams=tuple((name, c.stream_name) for name, c in streams if c.kind == "kinesis"),
        kafka_clusters=tuple((name, c.cluster_arn) for name, c in streams if c.kind == "kafka" and c.cluster_arn),
        self_managed_kafka=tuple((name, tuple(c.bootstrap_servers)) for name, c in streams
                                 if c.kind == "kafka" and c.bootstrap_servers),
        reserved={function_name(prefix, source, "land"): count
                  for source, count in sorted(settings.reserved_concurrency.items())},
        availability_zones=zones,
        warehouse=data_api,
        namespace=namespace,
        loader_user=user,
        schemas=tuple(sorted({s.definition.redshift.schema_.lower() for s in sources} | {META_SCHEMA})),
    )
