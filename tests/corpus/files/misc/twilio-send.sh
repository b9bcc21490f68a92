#!/bin/sh
curl -X POST "https://api.twilio.com/2010-04-01/Accounts/AC10b5be5cff6515cd5201d6771a198979/Messages.json" \
  --data-urlencode "Body=deploy done" \
  --data-urlencode "From=+15005550006" \
  --data-urlencode "To=+15005550009" \
  -u ACc503bdfb072a2b378230752b942c6991:4cce360baa238d3a77c849b5f337cd83
