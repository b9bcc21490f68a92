cd ~/relay
git pull
npm ci
export OPENAI_API_KEY=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
node scripts/smoke.js
curl -s -H "Authorization: Bearer e3a06d9207115f8b9de1356c1775d785e6e15f2b310a2ae1" http://127.0.0.1:18789/health
history | grep token
ls -la ~/.ssh
ssh-keygen -lf ~/.ssh/mesh_ed25519.pub
mysql -h db.mesh.internal -u relay -pqte19N5sHcgONbUk relay
docker ps
git log --oneline -5
