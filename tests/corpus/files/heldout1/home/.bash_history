ls -la
cd ~/src/mesh-router
git status
export OPENAI_API_KEY=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
python eval.py --model gpt-4o --n 50
mysql -h 10.0.3.12 -u admin -p'SIvvkTKWtJonI3' mesh_prod
docker login registry.gitlab.com -u mesh-ci -p glpat-wUFR2l1ARPO4qHis45yR
git remote set-url origin https://x-access-token:ghs_K9QCGyWmBXpKs94ULlln3DE5BkT9qs22aH5k@github.com/mesh-org/router.git
curl -u admin:AdrdA500xB4kRL4GsL https://jenkins.mesh.internal/job/router/build
history | grep curl
sha256sum router-linux-amd64.tar.gz
echo $GITHUB_TOKEN | gh auth login --with-token
npm whoami
ssh -i ~/.ssh/id_ed25519 deploy@10.0.3.20
redis-cli -h cache.internal -a oB6XGkmfJ7D8equD1qFEg5R8Ng5egLWQ INFO memory
vim ~/.config/mesh/config.toml
exit
