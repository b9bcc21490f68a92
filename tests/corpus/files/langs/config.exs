import Config

config :relay, RelayWeb.Endpoint,
  url: [host: "relay.mesh.example", port: 443],
  secret_key_base: "w/QqvK8aVkM8jfccuH9nthT+3BJqnq55lD2/4fESy5swnxfJSivTxuRK+x6Nw76u",
  live_view: [signing_salt: "THEBtXwZ"]

config :relay, Relay.Repo,
  username: "relay",
  password: System.get_env("DB_PASSWORD"),
  hostname: "db.mesh.internal"
