# config/deploy.rb — Capistrano
lock "~> 3.19"

set :application, "mesh-portal"
set :repo_url, "https://deploy-bot:Ig5WUhcXojV4xOLSjxLw@git.mesh-example.net/mesh/portal.git"
set :deploy_to, "/srv/mesh-portal"
set :keep_releases, 5

set :default_env, {
  "RAILS_ENV" => "production",
  "RAILS_MASTER_KEY" => "88529f5794448f247aeb6f06190d27cb",
  "BUNDLE_GITHUB__COM" => "x-access-token:ghs_xlTgilfMhgnOgvdgnT51lLn7mcYwqZ1AabPD"
}

set :ssh_options, {
  keys: %w(~/.ssh/deploy_ed25519),
  forward_agent: false,
  auth_methods: %w(publickey)
}

namespace :deploy do
  task :notify do
    token = ENV.fetch("SLACK_TOKEN")
    puts "password reset mails: #{fetch(:password_reset_count, 0)}"
  end
end
