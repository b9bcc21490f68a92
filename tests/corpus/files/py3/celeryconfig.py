broker_url = "amqp://relay:ADktk82Zxu4l90hBxANbNN@rabbit.mesh.internal:5672/relay"
result_backend = "redis://cache.mesh.internal:6379/2"
task_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
