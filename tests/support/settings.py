"""The settings every test app starts from, and the cheap password hashing the tests use."""

from __future__ import annotations

SECRET = "test-secret-key-" + "x" * 32
ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE="  # 32 bytes, tests only

# werkzeug's scrypt with n=2**10 instead of its default 2**15: the same algorithm and hash
# format at about 1/60 of the cost (the suite hashes and checks some 1,600 passwords).
TEST_PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


def base_config(database_url: str, **extra) -> dict:
    return {
        "APP_ENV": "testing",
        "SECRET_KEY": SECRET,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "DATABASE_URL": database_url,
        "SMS_BACKEND": "outbox",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Hashing with the real cost was a third of the suite's time; checking reads the
        # method off each hash, so every path is the same but cheaper.
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH_METHOD,
        **extra,
    }
