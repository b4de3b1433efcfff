"""Writes Tests/FlywheelS3Tests/Fixtures/sigv4_vectors.json: AWS Signature V4 for S3, computed
by botocore with a frozen clock, for the Swift signer's tests to match byte for byte (no Python at
test time). Run once when adding a case:

    python -m venv /tmp/b && /tmp/b/bin/pip install botocore
    /tmp/b/bin/python scripts/make_sigv4_vectors.py
"""
import datetime
import json
import os
from unittest import mock

import botocore
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5)


def case(name, method, url, headers, body=b"", region="us-east-1", token=None, presign=None):
    """Header-signed requests carry the body's SHA-256; a presigned URL signs UNSIGNED-PAYLOAD."""
    creds = Credentials(AK, SK, token)
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    auth = S3SigV4QueryAuth(creds, "s3", region, expires=presign) if presign else S3SigV4Auth(creds, "s3", region)
    seen = {}
    canonical_request, string_to_sign = auth.canonical_request, auth.string_to_sign

    def record_canonical(r):
        seen["canonical"] = canonical_request(r)
        return seen["canonical"]

    def record_string(r, c):
        seen["to_sign"] = string_to_sign(r, c)
        return seen["to_sign"]

    auth.canonical_request, auth.string_to_sign = record_canonical, record_string
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        auth.add_auth(req)
    out = {"name": name, "method": method, "url": url, "headers": [[k, v] for k, v in headers],
           "payload_hash": None if presign else req.headers["X-Amz-Content-SHA256"], "region": region,
           "session_token": token, "canonical_request": seen["canonical"], "string_to_sign": seen["to_sign"]}
    if presign:
        out["expires"] = presign
        out["presigned_url"] = req.url
    else:
        out["authorization"] = req.headers["Authorization"]
        out["amz_date"] = req.headers["X-Amz-Date"]
    return out


body = b"hello world"
cases = [
    case("put object", "PUT", "http://127.0.0.1:9000/flywheel-artifacts/runs/r1/model.bin", [], body=b"hello world"),
    case("list with a prefix holding a space", "GET",
         "http://127.0.0.1:9000/flywheel-artifacts?list-type=2&prefix=a%20b%2F&delimiter=%2F", []),
    case("key with a space, unicode and a plus", "GET",
         "http://127.0.0.1:9000/flywheel-artifacts/runs/r%201/%C3%BCn%C3%AF%2Bcode.bin", []),
    case("upload part", "PUT",
         "https://s3.example.com/flywheel-artifacts/big.bin?partNumber=1&uploadId=abc%2Fdef%3D%3D", [],
         body=b"part one"),
    case("head with a range and a content type", "HEAD", "https://s3.example.com:8333/bucket/k",
         [("Range", "bytes=0-99"), ("Content-Type", "application/octet-stream")], region="eu-west-1"),
    case("session token", "DELETE", "http://127.0.0.1:9000/flywheel-artifacts/x", [], token="FQoGZXIvYXdzEXAMPLETOKEN"),
    case("presigned get", "GET", "http://127.0.0.1:9000/flywheel-artifacts/runs/r1/model.bin", [], presign=3600),
]
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "FlywheelS3Tests", "Fixtures", "sigv4_vectors.json")
with open(path, "w") as f:
    json.dump({"generator": f"botocore {botocore.__version__}", "access_key": AK, "secret_key": SK,
               "time": "2026-01-02T03:04:05Z", "cases": cases}, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(path)
