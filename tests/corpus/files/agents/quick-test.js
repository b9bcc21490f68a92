// quick manual test against the staging gateway, do not commit (oops)
const fetch = require("node-fetch");

const token = "8fc66d4cdb8e9fc1c43c62f23a652621be01bcd9643ec08e";

async function main() {
  const r = await fetch("https://gw-staging.mesh.internal:18789/v1/status", {
    headers: { Authorization: "Bearer " + token },
  });
  console.log(r.status, await r.text());
}

main().catch((e) => { console.error(e); process.exit(1); });
