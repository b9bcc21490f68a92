import Config

if config_env() == :prod do
  database_url =
    System.get_env("DATABASE_URL") ||
      raise """
      environment variable DATABASE_URL is missing.
      For example: ecto://USER:PASS@HOST/DATABASE
      """

  config :mesh, Mesh.Repo,
    url: database_url,
    pool_size: String.to_integer(System.get_env("POOL_SIZE") || "10")

  config :mesh, Mesh.Legacy.Repo,
    username: "legacy",
    password: "iEBZ30bXkVHkU0AIQ1JbZY",
    hostname: "legacy-db.mesh.internal"

  config :mesh, MeshWeb.Endpoint,
    http: [ip: {0, 0, 0, 0}, port: 4000],
    secret_key_base: "EeLd8FKfQyawWaprlB9U61y1FQfCmgZhEV432THSXdgFMyH41yGJY1iAq8lbhohC"

  config :mesh, :stripe, api_key: System.fetch_env!("STRIPE_API_KEY")
end
