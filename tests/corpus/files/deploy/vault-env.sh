#!/usr/bin/env bash
export VAULT_ADDR=https://vault.mesh.internal:8200
export VAULT_TOKEN=hvs.CAESIQy9gIwinSE1KLuBMYoxFjy8eU2VzmLonsNwo6iPt-tA4jWwUJAVG2u12yhlmnlEoiMB9okSUZCPs3sSNbk5w7i
vault kv get -format=json secret/relay | jq -r '.data.data | to_entries[] | "export \(.key)=\(.value)"'
