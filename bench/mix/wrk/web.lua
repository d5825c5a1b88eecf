-- The server-rendered pages beside the API (bench/web.py).
-- wrk -s web.lua URL -- READERS_FILE KIND
-- READERS_FILE: one "token account_id session_key username" per line.
-- KIND: page_home (GET /home, session cookie) | api_home (GET /api/v1/timelines/home, bearer)
--       page_profile (GET /@username, anonymous) | api_account (the same notes through the API, anonymous)
package.path = package.path .. ";" .. debug.getinfo(1).source:match("@?(.*/)") .. "?.lua"
require "common"

local readers = {}
local kind

function init(args)
  for line in io.lines(args[1]) do
    local token, id, sid, name = line:match("^(%S+)%s+(%S+)%s+(%S+)%s+(%S+)$")
    if token then readers[#readers + 1] = { token = token, id = id, sid = sid, name = name } end
  end
  kind = args[2]
  math.randomseed(os.time() + math.random(1000000))
end

local function one() return readers[math.random(#readers)] end

function request()
  local who = one()
  if kind == "page_home" then
    return wrk.format("GET", "/home", { ["Cookie"] = "cordee_sid=" .. who.sid })
  end
  if kind == "api_home" then return get("/api/v1/timelines/home?limit=20", who) end
  if kind == "page_profile" then return wrk.format("GET", "/@" .. who.name) end
  if kind == "api_account" then
    return wrk.format("GET", "/api/v1/accounts/" .. who.id .. "/statuses?limit=20&exclude_replies=true")
  end
  return wrk.format("GET", wrk.path)
end
