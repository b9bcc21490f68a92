resource "tls_private_key" "deploy" {
  algorithm = "ED25519"
}

resource "random_password" "db" {
  length  = 32
  special = true
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = random_password.db.result
}

locals {
  bootstrap_key = <<-EOT
    -----BEGIN OPENSSH PRIVATE KEY-----
    b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
    4fDGlfQs+nr75GqocftRD2xoaa1EInnSaMqnk58Tt1vGRBTOIqfprNc3RpUTcwbQ
    tilsIQOb+alz1AWy8BY+V82xAtqzVijl0xZ3A8K7j46NH4oYydZpDOvnTCjZz2EV
    YZg5o0oUutIqvirRCfjvXxB8SFk7ZQGN+UkXnUBi==
    -----END OPENSSH PRIVATE KEY-----
  EOT
}
