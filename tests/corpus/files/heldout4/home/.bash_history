ls -la
cd ~/mesh
git pull
git checkout 6b7091a00955a02e55482c866116659dc3ce47bd
git log --oneline -5
export HF_TOKEN=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
huggingface-cli download meta-llama/Llama-3.2-1B-Instruct --local-dir ./models/llama
nvidia-smi
curl "https://api.openweathermap.org/data/2.5/weather?q=Lisbon&units=metric&appid=2e815f366a9955af52855ea42710bf29"
git clone https://oauth2:glpat-3r2bUf8XGoJlznWtct-h@gitlab.mesh.example/infra/ansible.git
cd ansible
ansible-playbook -i inventory/prod site.yml --check
ngrok config add-authtoken 23u5O4trre2NnLeSyFO0qSZJpjF_f4lXg4EB3dD9qulgVTHSU
ngrok http 8080
npm config set //registry.npmjs.org/:_authToken npm_KUxM649FPlSwDYpdOYChHMelwmYUb5x38SzE
npm publish --access public
psql "postgresql://postgres.d497tdzvuq9987os42j1:KnVfQmvPlCq0OLBB@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
redis-cli -h 10.40.0.21 -a 'OSxYFPKcsHhTjZ1gcLyz54kf' --no-auth-warning info keyspace
docker pull ghcr.io/meshworks/agent-runner@sha256:928ffd00842b0809abdbc36a215fcd9a0a791fb19c029a61782bd778fbc44b6a
docker ps
gh auth login --with-token <<< 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
gh pr list
ssh-keygen -lf ~/.ssh/id_ed25519.pub
curl -s "https://api.telegram.org/bot7797717550:AAapV_AIlJ9XZldDcpevFvK8qBAMjF2JI-0/getUpdates" | jq .
curl -s -H "Authorization: Bearer $OPENAI_API_KEY" https://api.openai.com/v1/models | jq '.data[].id'
curl https://api.anthropic.com/v1/messages -H "x-api-key: sk-ant-api03-BXXsenNtiPYyEeagv5oOts5wXbG2LPasFWdvoqKeLt8A2_vCAaCVNnbz0mFcZOsWn14S0F9KYHHR6Ws9mDvgEkC9f3VVwAA" -H "anthropic-version: 2023-06-01" -H "content-type: application/json" -d '{"model":"claude-3-5-haiku-latest","max_tokens":64,"messages":[{"role":"user","content":"ping"}]}'
history | grep curl
wg show
sudo journalctl -u agent-runner -n 100
curl -u admin:Cy1MyRcAa1s8KfwJ3Ihp http://10.40.0.30:9200/_cat/indices
curl "https://gitlab.mesh.example/api/v4/projects?private_token=glpat-BYc7XgdqQHqK7WnjYXH3"
export OPENAI_API_KEY=$(op read "op://mesh/openai/credential")
uv run python eval.py --model gpt-4.1-mini
mongosh "mongodb+srv://agent:viyoBjqnDdJeVuou4lnv@cluster0.u73wx.mongodb.net/mesh?retryWrites=true&w=majority"
exit
