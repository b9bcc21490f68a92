package relay

import "testing"

func TestDSN(t *testing.T) {
	got := dsn("relay", "s3cr3t", "localhost")
	want := "postgres://relay:s3cr3t@localhost:5432/relay?sslmode=disable"
	if got != want {
		t.Fatalf("dsn() = %q, want %q", got, want)
	}
}

func TestTokenPrefix(t *testing.T) {
	for _, tok := range []string{"ghp_1234567890abcdefghijklmnopqrstuvwxyz", "glpat-abcdefghij1234567890"} {
		if !looksLikeToken(tok) {
			t.Errorf("%s should look like a token", tok)
		}
	}
}
