terraform {
  required_providers {
    digitalocean = { source = "digitalocean/digitalocean", version = "~> 2.40" }
    cloudflare   = { source = "cloudflare/cloudflare", version = "~> 4.40" }
  }
  backend "s3" {
    bucket = "mesh-tfstate"
    key    = "relay/terraform.tfstate"
    region = "eu-central-1"
  }
}

provider "digitalocean" {
  token = var.do_token
}

provider "cloudflare" {
  api_token = var.cloudflare_api_token
}

resource "digitalocean_droplet" "relay" {
  name     = "relay-1"
  region   = "fra1"
  size     = "s-1vcpu-2gb"
  image    = "debian-12-x64"
  ssh_keys = [var.ssh_key_fingerprint]
}

resource "digitalocean_database_cluster" "pg" {
  name       = "relay-pg"
  engine     = "pg"
  version    = "16"
  size       = "db-s-1vcpu-1gb"
  region     = "fra1"
  node_count = 1
}

output "db_password" {
  value     = digitalocean_database_cluster.pg.password
  sensitive = true
}
