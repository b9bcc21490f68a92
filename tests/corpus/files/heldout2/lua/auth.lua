-- OpenResty access phase: forward to the model gateway
local http = require "resty.http"

local GATEWAY = "http://127.0.0.1:18789"
local api_key = "n0tVHrAm3dtCVZHhu4yk6o04v6PGcBaFC3XwFYjd"
local token_header = "X-Mesh-Token"

local function forward(path, body)
  local httpc = http.new()
  return httpc:request_uri(GATEWAY .. path, {
    method = "POST",
    body = body,
    headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. api_key,
    },
  })
end

return { forward = forward }
