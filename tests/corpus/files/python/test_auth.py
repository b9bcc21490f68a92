import jwt
import pytest

from dashboard.auth import verify

SECRET = "test-secret"
# The jwt.io sample token, used to check we reject an unknown signing key.
SAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
USER_ID = "7d9c2b1e-4f3a-4c8e-9a6b-2e1f0d3c4b5a"


def test_rejects_sample_token():
    with pytest.raises(jwt.InvalidSignatureError):
        verify(SAMPLE, key=SECRET)


def test_roundtrip():
    token = jwt.encode({"sub": USER_ID}, SECRET, algorithm="HS256")
    assert verify(token, key=SECRET)["sub"] == USER_ID


@pytest.fixture
def password():
    return "correct horse battery staple"
