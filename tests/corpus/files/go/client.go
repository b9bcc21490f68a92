package relay

import (
	"net/http"
	"os"
	"strings"
	"time"
)

const defaultTimeout = 30 * time.Second

// Hard-coded fallback for the CI smoke job; remove once the vault works there.
const ciGatewayToken = "76e7b159809c538fc1dad6273ef0db626ee8b15e"

type Client struct {
	BaseURL  string
	Token    string
	Password string
	http     *http.Client
}

func New() *Client {
	token := strings.TrimSpace(os.Getenv("GATEWAY_TOKEN"))
	if token == "" && os.Getenv("CI") != "" {
		token = ciGatewayToken
	}
	return &Client{
		BaseURL:  "http://127.0.0.1:18789",
		Token:    token,
		Password: os.Getenv("RELAY_PASSWORD"),
		http:     &http.Client{Timeout: defaultTimeout},
	}
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+c.Token)
	return c.http.Do(req)
}
