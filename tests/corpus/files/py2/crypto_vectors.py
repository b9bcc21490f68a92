"""Known-answer tests for the AES-GCM wrapper (NIST SP 800-38D style vectors)."""
KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
NONCE = bytes.fromhex("cafebabefacedbaddecaf888")
PLAINTEXT = b"the mesh never pushes secrets"
AAD = b"relay"
EXPECTED_TAG = "f1e1f4cac07c9e17100f3cb0c7695a2a"
secret_key_size = 32
token_bytes = 16
