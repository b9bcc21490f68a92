c = get_config()  # noqa
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.port = 8888
c.ServerApp.open_browser = False
c.IdentityProvider.token = "23e7e721671069ec2ad14432b21195b0ba41b4f75f9a5802"
c.ServerApp.root_dir = "/home/agent/notebooks"
