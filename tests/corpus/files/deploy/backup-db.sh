#!/bin/sh
set -eu
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
PGPASSWORD="Sq0hODA5iRvBYHuLsCgv" pg_dump -h db.mesh.internal -U backup mesh | gzip > "/var/backups/mesh-$STAMP.sql.gz"
aws s3 cp "/var/backups/mesh-$STAMP.sql.gz" "s3://mesh-backups/db/" --storage-class STANDARD_IA
find /var/backups -name 'mesh-*.sql.gz' -mtime +14 -delete
