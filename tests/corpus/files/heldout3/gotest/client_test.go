package client

import "testing"

// Test vectors: not real credentials.
const (
	testToken    = "test-token-123"
	testAPIKey   = "AKIAIOSFODNN7EXAMPLE"
	testSecret   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	fakeJWT      = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	passwordHash = "$2a$10$BYuAJ0PYmTX5S+LQmWiXqxqHjl2JGa7JYPD9WS/YHvV1nMV3Q920/"
)

func TestSign(t *testing.T) {
	c := New(Config{Token: testToken, Region: "us-east-1"})
	if got := c.Sign("GET", "/"); got == "" {
		t.Fatal("empty signature")
	}
}
