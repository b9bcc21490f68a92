local http = require("socket.http")
local ltn12 = require("ltn12")

local token = "7e6af83160d13eee9f45dbb5ec4f376d77b0bff5"
local url = "https://relay.mesh.example/v1/status"

local body = {}
http.request{ url = url, sink = ltn12.sink.table(body), headers = { ["Authorization"] = "Bearer " .. token } }
print(table.concat(body))
