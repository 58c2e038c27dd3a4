"""The Redshift Data API answered by the local DuckDB warehouse, with the API's semantics.

- `ExecuteStatement` runs one statement in a session of its own: a new connection, so a temporary table
  does not outlive it (as each Data API call without a SessionId is its own session).
- `BatchExecuteStatement` runs its statements in order as one transaction: when one fails, none of them
  stays; the failed sub-statement is FAILED, the ones after it ABORTED, and the batch FAILED with its error.
- `DescribeStatement` reports FINISHED or FAILED (with `Error`), and a batch's `SubStatements`
  (`<id>:<n>`); `GetStatementResult` returns a finished query's records as typed fields.
- A `ClientToken` makes a request idempotent: the same token again answers the first statement's id
  (and so its outcome) without running anything.
Statements run when they are submitted, so the first DescribeStatement sees the end. COPY's
`s3://<lake bucket>/...` locations are read from the local lake. Each statement keeps who ran it
(`SecretArn`, `DbUser`, or the calling function for IAM authentication), for identity checks.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from framework.rehearse.endpoints import Endpoints, ServiceError
from framework.warehouse import DuckDBWarehouse, as_script
from framework.warehouse.errors import WarehouseError

CONNECTION_KEYS = ("Database", "WorkgroupName", "ClusterIdentifier", "DbUser", "SecretArn")


@dataclass
class Statement:
    id: str
    sql: str
    connection: dict[str, str]
    identity: str
    status: str = "SUBMITTED"
    error: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    has_result: bool = False
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    sub: list[Statement] = field(default_factory=list)
    name: str | None = None

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "Id": self.id, "Status": self.status, "QueryString": self.sql, "CreatedAt": self.created,
            "UpdatedAt": self.created, "HasResultSet": self.has_result, "ResultRows": len(self.rows),
            **self.connection}
        if self.error:
            described["Error"] = self.error
        if self.sub:
            described["SubStatements"] = [
                {"Id": s.id, "Status": s.status, "QueryString": s.sql, "HasResultSet": s.has_result,
                 "ResultRows": len(s.rows), **({"Error": s.error} if s.error else {})} for s in self.sub]
            described.pop("QueryString")
        return described


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, Decimal):
        return {"stringValue": str(value)}
    return {"stringValue": str(value)}


class DataApi:
    """The Data API over one warehouse file; `localize` turns lake URIs in SQL into local paths."""

    def __init__(self, warehouse_path: Path, localize: Callable[[str], str] = lambda sql: sql) -> None:
        self.warehouse_path, self.localize = warehouse_path, localize
        self.statements: dict[str, Statement] = {}
        self.tokens: dict[str, str] = {}
        self.fail_when: list[tuple[Callable[[list[str]], bool], str]] = []  # injected failures (--fail-at)
        self._lock = threading.Lock()

    def register(self, endpoints: Endpoints) -> None:
        endpoints.add("redshift-data", "ExecuteStatement", self._execute)
        endpoints.add("redshift-data", "BatchExecuteStatement", self._batch)
        endpoints.add("redshift-data", "DescribeStatement", self._describe)
        endpoints.add("redshift-data", "GetStatementResult", self._result)

    # -- the API ---------------------------------------------------------------------------------
    def _execute(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._submit(params, [params.get("Sql") or ""], batch=False)

    def _batch(self, params: dict[str, Any]) -> dict[str, Any]:
        sqls = list(params.get("Sqls") or [])
        if not 1 <= len(sqls) <= 40:
            raise ServiceError("ValidationException", "Sqls must hold 1 to 40 statements")
        return self._submit(params, sqls, batch=True)

    def _describe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._find(params.get("Id", "")).describe()

    def _result(self, params: dict[str, Any]) -> dict[str, Any]:
        statement = self._find(params.get("Id", ""))
        if statement.sub:
            raise ServiceError("ValidationException", "Use a sub-statement id (<id>:<n>) for the result of a batch")
        if statement.status != "FINISHED" or not statement.has_result:
            raise ServiceError("ResourceNotFoundException", f"Query does not have result. Id: {statement.id}")
        return {"Records": [[_field(v) for v in row] for row in statement.rows],
                "ColumnMetadata": [{"name": c, "label": c} for c in statement.columns],
                "TotalNumRows": len(statement.rows)}

    # -- the work --------------------------------------------------------------------------------
    def _submit(self, params: dict[str, Any], sqls: list[str], batch: bool) -> dict[str, Any]:
        connection = self._connection(params)
        token = params.get("ClientToken")
        with self._lock:
            if token and token in self.tokens:
                return {"Id": self.tokens[token], **connection}
            statement = Statement(str(uuid.uuid4()), "; ".join(sqls), connection, self._identity(connection),
                                  name=params.get("StatementName"))
            if batch:
                statement.sub = [Statement(f"{statement.id}:{n}", sql, connection, statement.identity)
                                 for n, sql in enumerate(sqls, start=1)]
            self.statements[statement.id] = statement
            for sub in statement.sub:
                self.statements[sub.id] = sub
            if token:
                self.tokens[token] = statement.id
        self._run(statement, sqls, batch)
        return {"Id": statement.id, "CreatedAt": statement.created, **connection}

    def _run(self, statement: Statement, sqls: list[str], batch: bool) -> None:
        for matches, message in self.fail_when:
            if matches(sqls):
                statement.status, statement.error = "FAILED", f"ERROR: {message}"
                for sub in statement.sub:
                    sub.status = "ABORTED"
                return
        local = [self.localize(sql) for sql in sqls]
        warehouse = DuckDBWarehouse(self.warehouse_path)  # a session of its own
        try:
            if not batch:
                try:
                    statement.columns, statement.rows = warehouse.query(local[0])
                    statement.has_result = bool(statement.columns)
                except ValueError:  # COPY or transaction control: a script of one statement
                    warehouse.execute_script(as_script(local))
                statement.status = "FINISHED"
                return
            warehouse.execute_script(as_script(["BEGIN", *local, "COMMIT"]))
            statement.status = "FINISHED"
            for sub in statement.sub:
                sub.status = "FINISHED"
        except WarehouseError as error:
            statement.status, statement.error = "FAILED", f"ERROR: {error.message}"
            failed = error.statement_number - 1  # statement 1 of the script is the BEGIN
            for n, sub in enumerate(statement.sub, start=1):
                sub.status = "FINISHED" if n < failed else "FAILED" if n == failed else "ABORTED"
                if n == failed:
                    sub.error = statement.error
        finally:
            warehouse.close()

    def _find(self, statement_id: str) -> Statement:
        try:
            return self.statements[statement_id]
        except KeyError:
            raise ServiceError("ResourceNotFoundException", f"Query does not exist. Id: {statement_id}") from None

    @staticmethod
    def _connection(params: dict[str, Any]) -> dict[str, str]:
        connection = {k: str(params[k]) for k in CONNECTION_KEYS if params.get(k)}
        if "Database" not in connection:
            raise ServiceError("ValidationException", "Database is required")
        if ("WorkgroupName" in connection) == ("ClusterIdentifier" in connection):
            raise ServiceError("ValidationException", "Either WorkgroupName or ClusterIdentifier is required")
        if "ClusterIdentifier" in connection and not ({"DbUser", "SecretArn"} & set(connection)):
            raise ServiceError("ValidationException", "A cluster needs DbUser or SecretArn")
        return connection

    @staticmethod
    def _identity(connection: dict[str, str]) -> str:
        """The database user the statement runs as: the secret's user, the named DbUser, or (IAM
        authentication on Serverless) `IAMR:<the calling role>`, which is each function's own."""
        if "SecretArn" in connection:
            return f"secret:{connection['SecretArn']}"
        if "DbUser" in connection:
            return connection["DbUser"]
        return f"IAMR:{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'caller')}"
