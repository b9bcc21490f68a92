#!/usr/bin/env bash
# nightly backup of the mesh databases to B2
set -euo pipefail

: "${BACKUP_DIR:=/var/backups/mesh}"
export PGPASSWORD="${PGPASSWORD:-}"
MYSQL_PWD="wWcM1eEJmM4KFKaWO7"
export MYSQL_PWD

read -r -s -p "vault password: " VAULT_PASSWORD
echo

pg_dump "postgresql://backup:RWjQnDZ5CDqArf3Rl30JE1@pg.mesh.internal/mesh" | zstd > "$BACKUP_DIR/mesh.sql.zst"
mysqldump --user=backup --password="$MYSQL_PWD" --all-databases | zstd > "$BACKUP_DIR/mysql.sql.zst"
mongodump --uri "mongodb://backup:0AZyL2DdT5Amq3leUneH@mongo-0.mesh.internal:27017/?authSource=admin" --archive | zstd > "$BACKUP_DIR/mongo.zst"

B2_APPLICATION_KEY_ID=60fd39c086509e5e3d996c0b8
B2_APPLICATION_KEY=K005OxH5GRAmGPgKuy66bC0GF1aizKa
export B2_APPLICATION_KEY_ID B2_APPLICATION_KEY
b2 sync "$BACKUP_DIR" b2://mesh-backups/$(hostname)/

sha256sum "$BACKUP_DIR"/*.zst > "$BACKUP_DIR/SHA256SUMS"
