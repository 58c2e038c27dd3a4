"""Code that ships inside the connector Lambda: standard library and boto3 only."""
