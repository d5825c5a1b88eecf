-- One kind of request, by random accounts (or always the first one: one reader).
-- wrk -s one.lua URL -- ACCOUNTS_FILE KIND   (KIND: home | home1 | account | post | follow | apps | get)
package.path = package.path .. ";" .. debug.getinfo(1).source:match("@?(.*/)") .. "?.lua"
require "common"

local kind
function init(args)
  load_accounts(args[1])
  kind = args[2]
  math.randomseed(os.time() + math.random(1000000))
end

function request()
  if kind == "home1" then return get("/api/v1/timelines/home?limit=20", accounts[1]) end
  local who = pick()
  if kind == "home" then return get("/api/v1/timelines/home?limit=20", who) end
  if kind == "account" then return get("/api/v1/accounts/" .. pick().id .. "/statuses?limit=20", who) end
  if kind == "post" then return post(who) end
  if kind == "apps" then  -- what apps read besides the home page, in turns
    turn = (turn or 0) % 4 + 1
    local paths = {
      "/api/v1/notifications?limit=20",
      "/api/v1/timelines/home?min_id=9000000000000000000",  -- a poll: nothing newer than what it has
      "/api/v1/timelines/public?limit=20",
      "/api/v1/timelines/tag/cordee?limit=20",
    }
    return get(paths[turn], who)
  end
  if kind == "follow" then
    local target = pick()
    while target.id == who.id do target = pick() end  -- following oneself is refused (403)
    return wrk.format("POST", "/api/v1/accounts/" .. target.id .. "/follow",
      { ["Authorization"] = "Bearer " .. who.token })
  end
  return wrk.format("GET", wrk.path)
end
