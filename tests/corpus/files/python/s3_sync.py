import boto3

# temporary creds from the console, expire tonight
session = boto3.Session(
    aws_access_key_id="ASIARMSFCPRXBTKG4HTR",
    aws_secret_access_key="WOc5irYnI+D6z/p5wCd04U3LPxXcdMZnPKNmlUyA",
    aws_session_token="IQoJb3JpZ2luX2Vj6dOAZmVoYIWx/AhAOofFjKxBoNWHffZxOJ4Q7rOcby3iSR4pOr+tfQ1LKxsmXpv4x0+oWb3n8N3OlFaraVAzLZ8ZqfmuJxmJFqssx9ccACOjj8pdZJ77QSgiwkjHwFOf1pVGJeOvuCuIoimH5QtibFMyuNAqfKpepn2bp5Y22qw7l97oikayHTJtDSzTRBBbGTbUI60OheyJhZTfW6GxZ+UUHTXtwuJMY51dSUiAxSOSgHaf4qBYoXBz60B8d0oPPkooZOi2U00acXsc89BuF/JE3zgMLlObW++TewnbH+4y",
    region_name="eu-central-1",
)
s3 = session.client("s3")

for obj in s3.list_objects_v2(Bucket="mesh-worker-artifacts").get("Contents", []):
    print(obj["Key"], obj["Size"], obj["ETag"])
