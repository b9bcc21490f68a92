#!/bin/sh
set -eu
mysql -uroot -pUIV5aMeFv9aul6bH -e "CREATE DATABASE IF NOT EXISTS wiki"
mysql -uroot -p"$MYSQL_ROOT_PASSWORD" -e "CREATE USER IF NOT EXISTS 'wiki'@'%' IDENTIFIED BY '$WIKI_DB_PASSWORD'"
