"""`onboard rehearse`: the deployed pipeline of a source, executed offline.

The synthesized templates (cdk.out/) are read as CloudFormation would deploy them, with every intrinsic
resolved to the rehearsal's names (`assembly`). moto stands in for S3, DynamoDB, SQS, SNS, Secrets Manager
and Step Functions, whose interpreter executes the state machine definition from the template. The calls
moto cannot answer offline are answered in-process by fakes hooked into botocore (`endpoints`): Lambda
invocations run the handlers from their assets (`lambdas`), Glue job runs run the job script from its asset
on local Spark (`glue_runs`) and the Redshift Data API runs on the local DuckDB warehouse (`data_api`).
`lake` bridges moto's buckets and the local lake; `execution` puts it together.
"""
