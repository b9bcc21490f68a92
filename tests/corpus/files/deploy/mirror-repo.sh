#!/bin/sh
# mirror the relay repository to the backup forge
set -eu
git clone --mirror https://github.com/mesh/relay.git /tmp/relay.git
cd /tmp/relay.git
git push --mirror "https://meshbot:${BACKUP_FORGE_TOKEN}@git.backup.mesh.internal/mesh/relay.git"
git push --mirror https://oauth2:glpat-yjSt22zcpzPGZBI25wDO@gitlab.mesh.internal/mirror/relay.git
