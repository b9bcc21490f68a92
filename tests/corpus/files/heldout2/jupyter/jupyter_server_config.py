# Configuration file for jupyter-server.
c = get_config()  # noqa

c.ServerApp.ip = "0.0.0.0"
c.ServerApp.port = 8888
c.ServerApp.open_browser = False
c.IdentityProvider.token = "c727d3600c8047fee85d4293a640671148faf056348d4d87"
c.PasswordIdentityProvider.hashed_password = "argon2:$argon2id$v=19$m=10240,t=10,p=8$FqTSP4DqCMY9S9Lsu6KH7/$u8G0Nu1+UPZZRBgxOMBUelYkSJ4WNTg4dxHXbZ7ggM6"
c.ServerApp.root_dir = "/srv/notebooks"
